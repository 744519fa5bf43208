//! A single-pass executor for the extraction queries in `queries/<lang>/*.scm`.
//!
//! tree-sitter's `QueryCursor` is general: at every node of the tree it
//! computes field and sibling state for every pattern step that might be in
//! progress. On the saleor sample that is about 40% of the cost of parsing, and
//! the extraction queries need almost none of it: each pattern is a node kind,
//! optionally with child patterns (by field or in order), and captures.
//!
//! [`Matcher`] compiles that subset of the query language (node kinds, `(_)`,
//! `field:` constraints, nested child patterns, `@captures`, `;` comments)
//! against the grammar, and runs every pattern in one `TreeCursor` pre-order
//! walk that looks up root patterns by node kind id. Anything outside the
//! subset (predicates, quantifiers, alternations, anchors, negated fields,
//! string nodes, supertypes) is refused when the matcher is built, so a query
//! cannot silently mean something else here. The same files are also compiled
//! by tree-sitter (a unit test), and a test asserts that both engines return
//! exactly the same matches on every fixture file. Rule queries in `rules/`
//! (user-written, any syntax) keep using tree-sitter's `QueryCursor`.

use tree_sitter::{Language, Node, TreeCursor};

#[derive(Debug)]
struct Step {
    /// Node kind id; `None` is `(_)`: any named node.
    kind: Option<u16>,
    /// Required field of this node in its parent (`left: (...)`).
    field: Option<u16>,
    capture: Option<u32>,
    /// Child patterns, matched against direct children in order (gaps allowed).
    children: Vec<Step>,
}

/// Compiled extraction patterns of one language.
#[derive(Debug)]
pub struct Matcher {
    patterns: Vec<Step>,
    /// Root patterns by node kind id.
    by_kind: Vec<Vec<u32>>,
    /// Root patterns that are `(_)`.
    any_named: Vec<u32>,
    capture_names: Vec<String>,
}

/// Captures of one match: (capture index, node), parent before children,
/// children in document order.
pub type Captures<'t> = [(u32, Node<'t>)];

impl Matcher {
    /// Compile `source` (the concatenated `.scm` files of a language).
    pub fn new(language: &Language, source: &str) -> Result<Matcher, String> {
        let mut p = Parser {
            src: source,
            at: 0,
            language,
            capture_names: vec![],
        };
        let mut patterns = vec![];
        loop {
            p.skip_space();
            if p.at >= source.len() {
                break;
            }
            patterns.push(p.pattern(None)?);
        }
        let mut by_kind = vec![vec![]; language.node_kind_count() + 1];
        let mut any_named = vec![];
        for (i, s) in patterns.iter().enumerate() {
            match s.kind {
                Some(k) => by_kind[k as usize].push(i as u32),
                None => any_named.push(i as u32),
            }
        }
        Ok(Matcher {
            patterns,
            by_kind,
            any_named,
            capture_names: p.capture_names,
        })
    }

    pub fn capture_names(&self) -> &[String] {
        &self.capture_names
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Call `f(pattern index, captures)` for every match under `root`, in
    /// pre-order of the matched node, patterns in file order at each node.
    pub fn for_each_match<'t>(&self, root: Node<'t>, f: impl FnMut(usize, &Captures<'t>)) {
        self.for_each_match_pruned(root, f, |_| true);
    }

    /// [`Matcher::for_each_match`], asking `descend(node)` at every node,
    /// after the matches rooted there: `false` skips the node's subtree (the
    /// caller has taken everything it needs from it, or knows it holds no
    /// match).
    pub fn for_each_match_pruned<'t>(
        &self,
        root: Node<'t>,
        mut f: impl FnMut(usize, &Captures<'t>),
        mut descend: impl FnMut(Node<'t>) -> bool,
    ) {
        let mut caps: Vec<(u32, Node<'t>)> = Vec::with_capacity(8);
        let mut cursor = root.walk();
        loop {
            let node = cursor.node();
            let roots = self
                .by_kind
                .get(node.kind_id() as usize)
                .map_or(&[][..], |v| v.as_slice());
            let rooted = !roots.is_empty() || (!self.any_named.is_empty() && node.is_named());
            if rooted {
                self.at_node(node, roots, &mut caps, &mut f);
            }
            if descend(node) && cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    fn at_node<'t>(
        &self,
        node: Node<'t>,
        roots: &[u32],
        caps: &mut Vec<(u32, Node<'t>)>,
        f: &mut impl FnMut(usize, &Captures<'t>),
    ) {
        let mut run = |pi: u32, caps: &mut Vec<(u32, Node<'t>)>| {
            caps.clear();
            let pi = pi as usize;
            match_node(&self.patterns[pi], node, caps, &mut |caps| f(pi, caps));
        };
        if self.any_named.is_empty() || !node.is_named() {
            roots.iter().for_each(|&pi| run(pi, caps));
        } else {
            let mut all: Vec<u32> = roots.iter().chain(&self.any_named).copied().collect();
            all.sort_unstable();
            all.into_iter().for_each(|pi| run(pi, caps));
        }
    }
}

type Cont<'k, 't> = dyn FnMut(&mut Vec<(u32, Node<'t>)>) + 'k;

/// Does `node`, sitting in field `field` of its parent, satisfy `step`'s own
/// kind and field (not its children)?
fn node_ok(step: &Step, node: Node, field: Option<u16>) -> bool {
    if step.field.is_some() && step.field != field {
        return false;
    }
    match step.kind {
        Some(k) => node.kind_id() == k,
        None => node.is_named(),
    }
}

/// Enumerate every way `step` (whose kind already matched) matches at `node`,
/// calling `k` with the captures of each.
fn match_node<'t>(
    step: &Step,
    node: Node<'t>,
    caps: &mut Vec<(u32, Node<'t>)>,
    k: &mut Cont<'_, 't>,
) {
    let mark = caps.len();
    if let Some(c) = step.capture {
        caps.push((c, node));
    }
    if step.children.is_empty() {
        k(caps);
    } else {
        let mut kids: Vec<(Node<'t>, Option<u16>)> = Vec::with_capacity(8);
        let mut cursor: TreeCursor<'t> = node.walk();
        if cursor.goto_first_child() {
            loop {
                kids.push((cursor.node(), cursor.field_id().map(u16::from)));
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        match_children(&step.children, &kids, 0, caps, k);
    }
    caps.truncate(mark);
}

/// Match `steps` in order against `kids[from..]`, gaps allowed.
fn match_children<'t>(
    steps: &[Step],
    kids: &[(Node<'t>, Option<u16>)],
    from: usize,
    caps: &mut Vec<(u32, Node<'t>)>,
    k: &mut Cont<'_, 't>,
) {
    let Some((step, rest)) = steps.split_first() else {
        k(caps);
        return;
    };
    for i in from..kids.len() {
        let (kid, field) = kids[i];
        if node_ok(step, kid, field) {
            match_node(step, kid, caps, &mut |caps| {
                match_children(rest, kids, i + 1, caps, k)
            });
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    at: usize,
    language: &'a Language,
    capture_names: Vec<String>,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.at..]
    }

    fn skip_space(&mut self) {
        loop {
            let r = self.rest();
            let t = r.trim_start();
            self.at += r.len() - t.len();
            if t.starts_with(';') {
                self.at += t.find('\n').unwrap_or(t.len());
            } else {
                return;
            }
        }
    }

    fn error(&self, what: &str) -> String {
        let line = self.src[..self.at].matches('\n').count() + 1;
        let near: String = self.rest().chars().take(24).collect();
        format!("line {line}: {what} (near `{near}`)")
    }

    fn ident(&mut self) -> &'a str {
        let r = self.rest();
        let n = r
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .unwrap_or(r.len());
        let s = &self.src[self.at..self.at + n];
        self.at += n;
        s
    }

    /// `[field:] (kind child*) @capture?`
    fn pattern(&mut self, field: Option<u16>) -> Result<Step, String> {
        self.skip_space();
        if !self.rest().starts_with('(') {
            return Err(self.error(
                "expected `(`: only node patterns, fields and captures are supported here",
            ));
        }
        self.at += 1;
        self.skip_space();
        let name = self.ident().to_string();
        let kind = match name.as_str() {
            "" => return Err(self.error("expected a node kind")),
            "_" => None,
            k => match self.language.id_for_node_kind(k, true) {
                0 => return Err(self.error(&format!("unknown node kind `{k}`"))),
                id if self.language.node_kind_is_supertype(id) => {
                    return Err(self.error(&format!("supertype `{k}` is not supported")))
                }
                id => Some(id),
            },
        };
        let mut children = vec![];
        loop {
            self.skip_space();
            let r = self.rest();
            if r.is_empty() {
                return Err(self.error("unclosed `(`"));
            }
            if r.starts_with(')') {
                self.at += 1;
                break;
            }
            if r.starts_with('(') {
                children.push(self.pattern(None)?);
                continue;
            }
            let start = self.at;
            let f = self.ident().to_string();
            if !f.is_empty() && self.rest().starts_with(':') {
                self.at += 1;
                let id = self
                    .language
                    .field_id_for_name(&f)
                    .ok_or_else(|| self.error(&format!("unknown field `{f}`")))?;
                children.push(self.pattern(Some(id.get()))?);
                continue;
            }
            self.at = start;
            return Err(self.error("unsupported query syntax"));
        }
        self.skip_space();
        let capture = if self.rest().starts_with('@') {
            self.at += 1;
            let c = self.ident().to_string();
            if c.is_empty() {
                return Err(self.error("expected a capture name"));
            }
            Some(match self.capture_names.iter().position(|x| *x == c) {
                Some(i) => i as u32,
                None => {
                    self.capture_names.push(c);
                    self.capture_names.len() as u32 - 1
                }
            })
        } else {
            None
        };
        let r = self.rest();
        if r.starts_with('@') || r.starts_with(['*', '+', '?', '.', '!', '[', '"', '#']) {
            return Err(self.error("unsupported query syntax"));
        }
        Ok(Step {
            kind,
            field,
            capture,
            children,
        })
    }
}
