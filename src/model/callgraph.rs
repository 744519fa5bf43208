//! A name-resolved call graph over the repository's definitions, built lazily
//! from the linked calls: a node is a function, method or class (file, def),
//! or a module's top level (file, None). Edges come from
//! [`Index::call_target`]; calls made by nested functions and closures count
//! for the function that contains them; a class's constructor is its
//! `__init__`.

use super::Step;
use crate::catalog::Catalog;
use crate::extract::{DefKind, Expr, Pos};
use crate::link::{Index, Target};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

pub type Node = (usize, Option<usize>);

/// The scopes whose calls count for a node: a function and the functions and
/// closures nested in it; a class's own body; a module's top level.
pub fn scopes_of(f: &crate::extract::FileFacts, d: Option<usize>) -> Vec<Option<usize>> {
    match d {
        None => vec![None],
        Some(d) if f.defs[d].kind == DefKind::Function => (d..f.defs.len())
            .take_while(|&s| s == d || f.defs[s].start_byte < f.defs[d].end_byte)
            .map(Some)
            .collect(),
        Some(d) => vec![Some(d)],
    }
}

pub struct CallGraph<'a> {
    idx: &'a Index<'a>,
    by_symbol: FxHashMap<String, Node>,
    edges: RefCell<FxHashMap<Node, Rc<Vec<Node>>>>,
}

impl<'a> CallGraph<'a> {
    pub fn new(idx: &'a Index<'a>) -> Self {
        let mut by_symbol = FxHashMap::default();
        for (fi, f) in idx.files.iter().enumerate() {
            for di in 0..f.defs.len() {
                by_symbol
                    .entry(idx.def_symbol(fi, di))
                    .or_insert((fi, Some(di)));
            }
        }
        CallGraph {
            idx,
            by_symbol,
            edges: RefCell::new(FxHashMap::default()),
        }
    }

    /// The node of a module-qualified definition symbol (`pkg.mod:func`).
    pub fn node_of(&self, symbol: &str) -> Option<Node> {
        self.by_symbol.get(symbol).copied()
    }

    pub fn symbol(&self, n: Node) -> String {
        match n.1 {
            Some(d) => self.idx.def_symbol(n.0, d),
            None => self.idx.module[n.0].clone(),
        }
    }

    pub fn step(&self, n: Node) -> Step {
        let f = &self.idx.files[n.0];
        Step {
            symbol: self.symbol(n),
            file: f.path.clone(),
            line: n.1.map(|d| f.defs[d].pos.line).unwrap_or(1),
        }
    }

    /// The definitions a node calls, in source order, without repeats.
    pub fn callees(&self, n: Node) -> Rc<Vec<Node>> {
        if let Some(e) = self.edges.borrow().get(&n) {
            return e.clone();
        }
        let idx = self.idx;
        let (fi, d) = n;
        let f = &idx.files[fi];
        let scopes = scopes_of(f, d);
        let mut out = vec![];
        let mut seen = FxHashSet::default();
        for s in scopes {
            for (ci, _) in idx.calls_in(fi, s) {
                if let Some(Target::Def(cf, cd)) = idx.call_target(fi, ci) {
                    let target = self.constructor((cf, Some(cd)));
                    if target != n && seen.insert(target) {
                        out.push(target);
                    }
                }
            }
        }
        let out = Rc::new(out);
        self.edges.borrow_mut().insert(n, out.clone());
        out
    }

    /// Calling a class runs its `__init__` when it has one.
    fn constructor(&self, n: Node) -> Node {
        let (fi, Some(d)) = n else { return n };
        let f = &self.idx.files[fi];
        if f.defs[d].kind != DefKind::Class {
            return n;
        }
        let init = format!("{}.__init__", f.defs[d].name);
        match f.defs.iter().position(|x| x.name == init) {
            Some(i) => (fi, Some(i)),
            None => n,
        }
    }

    /// Every node reachable from `start` within `max_depth` calls, breadth
    /// first, each with the shortest path from `start` (inclusive).
    pub fn reach(&self, start: Node, max_depth: usize) -> Vec<(Node, Vec<Node>)> {
        let mut parent: FxHashMap<Node, Option<Node>> = FxHashMap::default();
        let mut order = vec![];
        let mut queue = VecDeque::new();
        parent.insert(start, None);
        queue.push_back((start, 0usize));
        while let Some((n, depth)) = queue.pop_front() {
            order.push(n);
            if depth >= max_depth {
                continue;
            }
            for &c in self.callees(n).iter() {
                if let std::collections::hash_map::Entry::Vacant(v) = parent.entry(c) {
                    v.insert(Some(n));
                    queue.push_back((c, depth + 1));
                }
            }
        }
        order
            .into_iter()
            .map(|n| {
                let mut path = vec![n];
                let mut cur = n;
                while let Some(Some(p)) = parent.get(&cur) {
                    path.push(*p);
                    cur = *p;
                }
                path.reverse();
                (n, path)
            })
            .collect()
    }

    /// Entry points recognised by a decorator (`@click.command()`,
    /// `@shared_task`), sub-commands of a recognised group (`@cli.command()`),
    /// and functions the catalogue names (`fn main`): (kind, node, api, pos).
    pub fn decorated_entries(&self, cat: &Catalog) -> Vec<(String, Node, String, Pos)> {
        let idx = self.idx;
        let mut out: Vec<(String, Node, String, Pos)> = vec![];
        let mut groups: FxHashMap<String, String> = FxHashMap::default();
        let mut pending: Vec<(String, Node, Pos)> = vec![];
        for (fi, f) in idx.files.iter().enumerate() {
            let lc = cat.lang(f.lang);
            for (di, d) in f.defs.iter().enumerate() {
                // Free functions the catalogue names (`main`).
                if d.parent.is_none()
                    && d.kind == DefKind::Function
                    && !d.name.contains(idx.sep(fi))
                {
                    if let Some(spec) = lc
                        .entry
                        .iter()
                        .find(|e| e.functions.iter().any(|x| *x == d.name))
                    {
                        out.push((
                            spec.kind.clone(),
                            (fi, Some(di)),
                            format!("fn {}", d.name),
                            d.pos,
                        ));
                    }
                }
                // Methods of classes deriving from a catalogued base.
                if let Some(cls) = d.parent.filter(|&c| f.defs[c].kind == DefKind::Class) {
                    let short = d.name.rsplit('.').next().unwrap_or(&d.name);
                    for spec in lc
                        .entry
                        .iter()
                        .filter(|e| !e.bases.is_empty() && e.methods.iter().any(|m| m == short))
                    {
                        if let Some(base) = derives_from(idx, fi, cls, &spec.bases, 0) {
                            out.push((spec.kind.clone(), (fi, Some(di)), base, d.pos));
                            break;
                        }
                    }
                }
                for dec in &d.decorators {
                    let func = match dec {
                        Expr::Call(c) => &c.func,
                        other => other,
                    };
                    if let Some(Target::External(q)) = idx.resolve_expr(fi, d.parent, func) {
                        if let Some(spec) = lc.entry_decorator_for(&q) {
                            groups.insert(idx.def_symbol(fi, di), spec.kind.clone());
                            out.push((spec.kind.clone(), (fi, Some(di)), q.to_string(), d.pos));
                        } else {
                            pending.push((q.to_string(), (fi, Some(di)), d.pos));
                        }
                    }
                }
            }
        }
        // `@cli.command()` where `cli` is itself a recognised group.
        for (q, node, pos) in pending {
            if let Some((base, _)) = q.rsplit_once('.') {
                if let Some(kind) = groups.get(base) {
                    out.push((kind.clone(), node, q.clone(), pos));
                }
            }
        }
        out
    }
}

/// The catalogued base (one of `bases`) class `cls` derives from, directly or
/// through repository classes (bounded depth).
fn derives_from(
    idx: &Index,
    fi: usize,
    cls: usize,
    bases: &[String],
    depth: u32,
) -> Option<String> {
    if depth > 4 {
        return None;
    }
    let d = &idx.files[fi].defs[cls];
    for b in &d.bases {
        match idx.resolve_expr(fi, d.parent, b) {
            Some(Target::External(q)) if bases.iter().any(|x| crate::catalog::matches(x, &q)) => {
                return Some(q.to_string());
            }
            Some(Target::Def(bf, bd)) if idx.files[bf].defs[bd].kind == DefKind::Class => {
                // The catalogued base itself, in its own repository
                // (`smolagents.tools:Tool` read as `smolagents.tools.Tool`).
                let own = idx.def_symbol(bf, bd).replacen(':', ".", 1);
                if bases.iter().any(|x| crate::catalog::matches(x, &own)) {
                    return Some(own);
                }
                if let Some(q) = derives_from(idx, bf, bd, bases, depth + 1) {
                    return Some(q);
                }
            }
            _ => {}
        }
    }
    None
}
