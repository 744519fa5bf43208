//! Rust: decode the captures of `queries/rust/*.scm` into [`FileFacts`].

use super::*;
use std::num::NonZeroU16 as FieldId;
use std::sync::LazyLock;
use tree_sitter::{Node, Tree};

const MAX_DEPTH: u32 = 64;

/// Field ids of the grammar (see [`field_id`]).
struct Fields {
    alias: FieldId,
    alternative: FieldId,
    consequence: FieldId,
    argument: FieldId,
    arguments: FieldId,
    body: FieldId,
    field: FieldId,
    function: FieldId,
    left: FieldId,
    list: FieldId,
    macro_: FieldId,
    name: FieldId,
    operator: FieldId,
    parameters: FieldId,
    return_type: FieldId,
    path: FieldId,
    pattern: FieldId,
    right: FieldId,
    trait_: FieldId,
    type_: FieldId,
    type_arguments: FieldId,
    value: FieldId,
}

/// Node kind names by kind id (see [`KindNames`]).
static KINDS: LazyLock<KindNames> = LazyLock::new(|| KindNames::new(Lang::Rust));

static TOKEN_TREE: LazyLock<u16> =
    LazyLock::new(|| Lang::Rust.grammar().id_for_node_kind("token_tree", true));

fn node_kind(n: Node) -> &'static str {
    KINDS.of(n)
}

static F: LazyLock<Fields> = LazyLock::new(|| {
    let id = |name| field_id(Lang::Rust, name);
    Fields {
        alias: id("alias"),
        alternative: id("alternative"),
        consequence: id("consequence"),
        argument: id("argument"),
        arguments: id("arguments"),
        body: id("body"),
        field: id("field"),
        function: id("function"),
        left: id("left"),
        list: id("list"),
        macro_: id("macro"),
        name: id("name"),
        operator: id("operator"),
        parameters: id("parameters"),
        return_type: id("return_type"),
        path: id("path"),
        pattern: id("pattern"),
        right: id("right"),
        trait_: id("trait"),
        type_: id("type"),
        type_arguments: id("type_arguments"),
        value: id("value"),
    }
});

pub fn extract(tree: &Tree, src: &[u8], path: String) -> FileFacts {
    extract_with(tree, src, path, true)
}

/// [`extract`], with the walk's pruning of complete calls on or off (see
/// `python::extract_with`; a test asserts both give the same facts).
pub fn extract_with(tree: &Tree, src: &[u8], path: String, prune: bool) -> FileFacts {
    extract_inner(tree, src, path, prune, false)
}

/// `tree_links`: find qualifying items and attributes through the tree's
/// parent and sibling links even in a tree without errors (tests compare).
fn extract_inner(
    tree: &Tree,
    src: &[u8],
    path: String,
    prune: bool,
    tree_links: bool,
) -> FileFacts {
    let mut ff = FileFacts::new(path, Lang::Rust, src.len());
    ff.has_errors = tree.root_node().has_error();
    ff.test_lines = test_lines(tree, src);
    let matcher = Lang::Rust.matcher();
    let names = matcher.capture_names();

    // Definitions with the `impl`/`mod` items that qualify their names
    // (innermost first, up to an enclosing function) and their outer
    // attributes, both read off the pre-order walk: `Node::parent` and
    // `Node::prev_named_sibling` rescan siblings on every call, quadratic in
    // long files. Trees with syntax errors use those (see `def_context`).
    let mut defs: Vec<(Node, Vec<Node>, Vec<Node>)> = vec![];
    let mut open: Vec<Node> = vec![];
    let mut attrs: Vec<Node> = vec![];
    let errors = ff.has_errors || tree_links;
    let mut returns: Vec<Node> = vec![];
    let mut branches: Vec<(Node, Node, Node)> = vec![];
    let mut arms: Vec<(Node, Node)> = vec![];
    // Trait impls seen (index into `ff.impls`), for their associated types.
    let mut impl_nodes: Vec<(Node, usize)> = vec![];
    // As in Python: `let`/`const`/`static` values and calls are converted
    // in pre-order during the walk, each call once, and the walk skips the
    // subtree of a call converted completely (a closure with statements, a
    // macro, generic arguments... are gaps). Macros always stand on their own.
    let mut cov = Cover::on();
    let prune = prune && !ff.has_errors;
    let mut assigns: Vec<(Node, String, Expr)> = vec![];
    let mut calls: Vec<(Node, Expr)> = vec![];
    let skip = std::cell::Cell::new(None);
    matcher.for_each_match_pruned(
        tree.root_node(),
        |_, captures| {
            let (mut target, mut value, mut whole) = (None, None, None);
            let mut inner = false;
            let (mut bc, mut bb, mut bw) = (None, None, None);
            let (mut arm_value, mut arm) = (None, None);
            let (mut assoc_name, mut assoc_type, mut assoc) = (None, None, None);
            for &(index, node) in captures {
                match names[index as usize].as_str() {
                    "def.function" | "def.struct" => {
                        close(&mut open, node);
                        let (quals, outer) = if errors {
                            def_context(node)
                        } else {
                            let quals = open
                                .iter()
                                .rev()
                                .take_while(|o| node_kind(**o) != "function_item")
                                .copied()
                                .collect();
                            (quals, outer_attributes(&attrs, node, src))
                        };
                        attrs.clear();
                        defs.push((node, quals, outer));
                        if node_kind(node) == "function_item" {
                            open.push(node);
                        }
                    }
                    "attribute" => attrs.push(node),
                    "call" | "macro" => {
                        if !cov.contains(node.id()) {
                            calls.push((node, conv_c(node, src, 0, &mut cov)));
                        }
                        // Calls written inside a macro's arguments
                        // (`try_outcome!(Headers::from_request(req).await)`).
                        if node_kind(node) == "macro_invocation" {
                            let mut w = node.walk();
                            let tt = node
                                .named_children(&mut w)
                                .find(|c| node_kind(*c) == "token_tree");
                            if let Some(tt) = tt {
                                for c in token_calls(tt, src, 0) {
                                    calls.push((node, Expr::Call(Box::new(c))));
                                }
                            }
                        }
                        if prune && cov.complete(node.id()) {
                            skip.set(Some(node.id()));
                        }
                    }
                    "return" => returns.push(node),
                    "try" => {
                        // The call under `?` (through `.await`).
                        let mut inner = node.named_child(0);
                        while let Some(x) = inner.filter(|x| node_kind(*x) == "await_expression") {
                            inner = x.named_child(0);
                        }
                        if let Some(x) = inner.filter(|x| node_kind(*x) == "call_expression") {
                            ff.tried.push(pos_of(x, src));
                        }
                    }
                    "branch.cond" => bc = Some(node),
                    "branch.body" => bb = Some(node),
                    "branch" => bw = Some(node),
                    "arm.value" => arm_value = Some(node),
                    "arm" => arm = Some(node),
                    "assoc.name" => assoc_name = Some(node),
                    "assoc.type" => assoc_type = Some(node),
                    "assoc" => assoc = Some(node),
                    "import" => {
                        let before = ff.imports.len();
                        use_tree(
                            node.child_by_field_id(F.argument.get()),
                            "",
                            src,
                            pos_of(node, src),
                            &mut ff.imports,
                        );
                        let inside = open.iter().any(|o| {
                            node_kind(*o) == "function_item"
                                && o.start_byte() <= node.start_byte()
                                && node.end_byte() <= o.end_byte()
                        });
                        for im in &mut ff.imports[before..] {
                            im.in_function = inside;
                        }
                    }
                    "mod" => {
                        close(&mut open, node);
                        open.push(node);
                        if let Some(n) = node.child_by_field_id(F.name.get()) {
                            ff.mods.push(text(n, src).to_string());
                        }
                    }
                    "impl" => {
                        close(&mut open, node);
                        open.push(node);
                        if let (Some(t), Some(ty)) = (
                            node.child_by_field_id(F.trait_.get()),
                            node.child_by_field_id(F.type_.get()),
                        ) {
                            impl_nodes.push((node, ff.impls.len()));
                            ff.impls.push(Impl {
                                trait_name: type_name(t, src),
                                type_name: type_name(ty, src),
                                pos: pos_of(node, src),
                                assoc: vec![],
                            });
                        }
                    }
                    "assign.target" => target = Some(node),
                    "assign.value" => value = Some(node),
                    "assign.inner" => {
                        value = Some(node);
                        inner = true;
                    }
                    "assign" => whole = Some(node),
                    _ => {}
                }
            }
            if let (Some(t), Some(v), Some(w)) = (target, value, whole) {
                let value = conv_c(v, src, 0, &mut cov);
                // `if let Some(x) = v`: `x` is what `v` holds.
                let value = if inner {
                    Expr::Element(Box::new(value))
                } else {
                    value
                };
                assigns.push((w, text(t, src).to_string(), value));
            }
            if let (Some(c), Some(b), Some(w)) = (bc, bb, bw) {
                branches.push((w, c, b));
            }
            if let (Some(v), Some(a)) = (arm_value, arm) {
                arms.push((a, v));
            }
            if let (Some(n), Some(t), Some(a)) = (assoc_name, assoc_type, assoc) {
                // A type alias outside any impl binds a name like `let`:
                // `pub type SendHeaders = send::SendHeaders;`.
                let in_impl = impl_nodes.iter().any(|(im, _)| {
                    im.start_byte() <= a.start_byte() && a.end_byte() <= im.end_byte()
                });
                if !in_impl {
                    assigns.push((a, text(n, src).to_string(), ty_expr(t, src)));
                }
                // The innermost trait impl containing it (impls open in pre-order).
                if let Some(&(_, i)) = impl_nodes.iter().rev().find(|(im, _)| {
                    im.start_byte() <= a.start_byte() && a.end_byte() <= im.end_byte()
                }) {
                    ff.impls[i]
                        .assoc
                        .push((text(n, src).to_string(), ty_expr(t, src)));
                }
            }
        },
        // Macro arguments are token trees: tokens, not expressions.
        |n| skip.get() != Some(n.id()) && !(prune && n.kind_id() == *TOKEN_TREE),
    );

    defs.sort_by_key(|d| d.0.start_byte());
    defs.dedup_by_key(|d| d.0.start_byte());
    let ranges: Vec<(usize, usize)> = defs
        .iter()
        .map(|d| (d.0.start_byte(), d.0.end_byte()))
        .collect();
    let scopes = Scopes::new(&ranges);
    let scope_of = |n: Node| -> Option<usize> { scopes.enclosing(n.start_byte(), n.end_byte()) };
    let mut nest = super::Nesting::default();
    for (i, (n, quals, outer)) in defs.iter().enumerate() {
        let n = *n;
        let base = n
            .child_by_field_id(F.name.get())
            .map(|x| text(x, src))
            .unwrap_or("");
        // Qualify with inline `mod` blocks and the `impl` type.
        let mut parts = vec![base.to_string()];
        for &p in quals {
            let name = match node_kind(p) {
                "impl_item" => p
                    .child_by_field_id(F.type_.get())
                    .map(|t| type_name(t, src)),
                _ => p
                    .child_by_field_id(F.name.get())
                    .map(|m| text(m, src).to_string()),
            };
            parts.extend(name);
        }
        parts.reverse();
        // Only functions nest scopes in Rust (struct items inside a fn do too).
        let parent = scopes
            .parent(i)
            .filter(|&p| node_kind(defs[p].0) == "function_item");
        let name = match parent {
            Some(p) => format!("{}::{}", nest.prefix(p, &ff.defs), base),
            None => parts.join("::"),
        };
        nest.push(parent);
        let decorators: ThinVec<Expr> = outer
            .iter()
            .filter_map(|p| p.named_child(0))
            .map(|a| attribute(a, src))
            .collect();
        let mut params = vec![];
        // A struct's fields are its parameters: `struct MaybeUser(Option<User>)`,
        // `struct S { user: Option<User> }` (names are empty for tuple fields).
        if node_kind(n) == "struct_item" {
            if let Some(body) = n.child_by_field_id(F.body.get()) {
                let mut w = body.walk();
                for fd in body.named_children(&mut w) {
                    let (name, ty) = match node_kind(fd) {
                        "field_declaration" => (
                            fd.child_by_field_id(F.name.get())
                                .map(|x| text(x, src).to_string())
                                .unwrap_or_default(),
                            fd.child_by_field_id(F.type_.get()),
                        ),
                        "line_comment"
                        | "block_comment"
                        | "attribute_item"
                        | "visibility_modifier" => continue,
                        _ if node_kind(body) == "ordered_field_declaration_list" => {
                            (String::new(), Some(fd))
                        }
                        _ => continue,
                    };
                    if let Some(t) = ty {
                        params.push(Param {
                            name: name.into(),
                            ty: Some(ty_expr(t, src)),
                            default: None,
                        });
                    }
                }
            }
        }
        if let Some(ps) = n.child_by_field_id(F.parameters.get()) {
            let mut w = ps.walk();
            for p in ps.named_children(&mut w) {
                if node_kind(p) == "parameter" {
                    let pat = p.child_by_field_id(F.pattern.get());
                    // `Path(name): Path<String>` binds `name`: an extractor
                    // destructured to the one value it holds.
                    let inner = pat
                        .filter(|x| node_kind(*x) == "tuple_struct_pattern")
                        .and_then(|x| {
                            let mut w = x.walk();
                            let ids: Vec<Node> = x
                                .named_children(&mut w)
                                .skip(1)
                                .filter(|c| node_kind(*c) == "identifier")
                                .collect();
                            (ids.len() == 1 && x.named_child_count() == 2).then(|| ids[0])
                        });
                    let name = inner
                        .or(pat)
                        .map(|x| text(x, src).to_string())
                        .unwrap_or_default();
                    params.push(Param {
                        name: name.into(),
                        ty: p.child_by_field_id(F.type_.get()).map(|t| ty_expr(t, src)),
                        default: None,
                    });
                }
            }
        }
        let mut returns_v = vec![];
        if let Some(body) = n.child_by_field_id(F.body.get()) {
            let tail = conv(body, src, 0);
            if tail != Expr::Other {
                returns_v.push(tail);
            }
        }
        let kind = if matches!(node_kind(n), "struct_item" | "enum_item") {
            DefKind::Struct
        } else {
            DefKind::Function
        };
        ff.defs.push(Def {
            name: name.into(),
            kind,
            pos: pos_of(n.child_by_field_id(F.name.get()).unwrap_or(n), src),
            decorators,
            params: params.into(),
            bases: ThinVec::new(),
            parent,
            attrs: ThinVec::new(),
            returns: returns_v.into(),
            ret: n
                .child_by_field_id(F.return_type.get())
                .map(|t| ty_expr(t, src)),
            start_byte: n.start_byte(),
            end_byte: n.end_byte(),
        });
    }
    // Statements, converted without the walk's cover (their calls stay
    // calls of their own).
    let mut stmts: Vec<(usize, Stmt)> = Vec::with_capacity(returns.len());
    for n in returns {
        let scope = scope_of(n);
        let value = n.named_child(0).map(|v| conv(v, src, 0));
        if let (Some(s), Some(v)) = (scope, &value) {
            ff.defs[s].returns.push(v.clone());
        }
        stmts.push((
            n.start_byte(),
            Stmt {
                kind: StmtKind::Return,
                value: value.unwrap_or(Expr::Other),
                scope: scope.into(),
                pos: pos_of(n, src),
                body: None,
            },
        ));
    }
    for (w, c, b) in branches {
        // `if let P = v {`: the value tested is `v`.
        let c = if node_kind(c) == "let_condition" {
            c.child_by_field_id(F.value.get()).unwrap_or(c)
        } else {
            c
        };
        stmts.push((
            w.start_byte(),
            Stmt {
                kind: StmtKind::Branch,
                value: conv(c, src, 0),
                scope: scope_of(w).into(),
                pos: pos_of(w, src),
                body: Some((pos_of(b, src), end_pos_of(b, src))),
            },
        ));
    }
    for (a, v) in arms {
        stmts.push((
            a.start_byte(),
            Stmt {
                kind: StmtKind::Arm,
                value: conv(v, src, 0),
                scope: scope_of(a).into(),
                pos: pos_of(v, src),
                body: None,
            },
        ));
    }
    stmts.sort_by_key(|s| s.0);
    ff.stmts = stmts.into_iter().map(|s| s.1).collect();
    ff.tried.extend(cov.take_tried());
    ff.tried.sort();
    ff.tried.dedup();
    for (w, target, value) in assigns {
        ff.assigns.push(Assign {
            target: target.into(),
            value,
            scope: scope_of(w).into(),
            pos: pos_of(w, src),
        });
    }
    for (n, call) in calls {
        match call {
            Expr::Call(c) => ff.calls.push(Call {
                call: *c,
                scope: scope_of(n).into(),
            }),
            // `env!("X")` is classified like a call to `env!`.
            Expr::Macro(m) => ff.calls.push(Call {
                call: CallExpr {
                    func: Expr::Name(Text::from(format!("{}!", m.name)), m.pos),
                    pos: m.pos,
                    start: m.pos,
                    args: m
                        .parts
                        .into_iter()
                        .map(|value| Arg { name: None, value })
                        .collect(),
                },
                scope: scope_of(n).into(),
            }),
            _ => {}
        }
    }
    ff.shrink();
    ff
}

/// Close the `impl`/`mod`/`fn` items that end before `n` starts.
fn close(open: &mut Vec<Node>, n: Node) {
    while open.last().is_some_and(|o| o.end_byte() <= n.start_byte()) {
        open.pop();
    }
}

/// The outer attributes of `item` among the attributes seen since the
/// previous definition: those that end, one after another, right before it
/// with only whitespace and comments in between (what its preceding named
/// siblings would be).
fn outer_attributes<'t>(seen: &[Node<'t>], item: Node<'t>, src: &[u8]) -> Vec<Node<'t>> {
    let mut out = vec![];
    let mut next = item.start_byte();
    for &a in seen.iter().rev() {
        if a.end_byte() > next || !only_space_and_comments(&src[a.end_byte()..next]) {
            break;
        }
        out.push(a);
        next = a.start_byte();
    }
    out.reverse();
    out
}

fn only_space_and_comments(mut b: &[u8]) -> bool {
    loop {
        b = b.trim_ascii_start();
        if b.is_empty() {
            return true;
        }
        if let Some(rest) = b.strip_prefix(b"//") {
            b = match memchr::memchr(b'\n', rest) {
                Some(i) => &rest[i + 1..],
                None => &[],
            };
        } else if let Some(rest) = b.strip_prefix(b"/*") {
            // Block comments nest in Rust.
            let mut depth = 1;
            let mut i = 0;
            while depth > 0 {
                match rest.get(i..i + 2) {
                    Some(b"/*") => {
                        depth += 1;
                        i += 2;
                    }
                    Some(b"*/") => {
                        depth -= 1;
                        i += 2;
                    }
                    Some(_) => i += 1,
                    None => return false,
                }
            }
            b = &rest[i..];
        } else {
            return false;
        }
    }
}

/// Line ranges (1-based, inclusive) of test items: items under
/// `#[cfg(test)]` (or a `cfg` whose predicate names `test`) and functions
/// marked `#[test]`, `#[tokio::test]`, `#[rstest]` and the like. Only item
/// lists are walked (the file and inline module bodies), iteratively.
pub fn test_lines(tree: &Tree, src: &[u8]) -> Vec<(u32, u32)> {
    let mut out = vec![];
    let mut lists = vec![tree.root_node()];
    while let Some(list) = lists.pop() {
        let mut first_attr: Option<Node> = None;
        let mut is_test = false;
        let mut c = list.walk();
        for item in list.named_children(&mut c) {
            match node_kind(item) {
                "attribute_item" => {
                    first_attr.get_or_insert(item);
                    let t: String = text(item, src)
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    is_test |= test_attribute(&t);
                }
                "line_comment" | "block_comment" => {}
                kind => {
                    let start = first_attr.take().unwrap_or(item);
                    if std::mem::take(&mut is_test) {
                        out.push((
                            start.start_position().row as u32 + 1,
                            item.end_position().row as u32 + 1,
                        ));
                    } else if kind == "mod_item" {
                        if let Some(body) = item.child_by_field_name("body") {
                            lists.push(body);
                        }
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// `#[cfg(test)]`, `#[cfg(all(test,…))]`, `#[test]`, `#[tokio::test]`,
/// `#[rstest]`, `#[test_case(…)]` (whitespace removed).
fn test_attribute(t: &str) -> bool {
    let Some(inner) = t.strip_prefix("#[").and_then(|t| t.strip_suffix(']')) else {
        return false;
    };
    if let Some(pred) = inner.strip_prefix("cfg(") {
        // `test` as a whole word of the predicate, not under `not(`.
        return pred
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == "test")
            && !pred.contains("not(test");
    }
    let path = inner.split('(').next().unwrap_or("");
    let last = path.rsplit("::").next().unwrap_or("");
    matches!(
        last,
        "test" | "rstest" | "test_case" | "quickcheck" | "proptest"
    )
}

/// [`extract`]'s qualifying items and outer attributes of a definition in a
/// tree with syntax errors, from the tree's parent and sibling links.
fn def_context(n: Node) -> (Vec<Node>, Vec<Node>) {
    let mut quals = vec![];
    let mut cur = n.parent();
    while let Some(p) = cur {
        match node_kind(p) {
            "impl_item" | "mod_item" => quals.push(p),
            "function_item" => break,
            _ => {}
        }
        cur = p.parent();
    }
    let mut outer = vec![];
    let mut prev = n.prev_named_sibling();
    while let Some(p) = prev {
        match node_kind(p) {
            "attribute_item" => outer.push(p),
            "line_comment" | "block_comment" => {}
            _ => break,
        }
        prev = p.prev_named_sibling();
    }
    outer.reverse();
    (quals, outer)
}

/// The name of a type, without generics or references: `FromRequestParts<S>` → `FromRequestParts`.
fn type_name(n: Node, src: &[u8]) -> String {
    // Generics and references are stepped through in a loop: a type can be
    // nested arbitrarily deep (`&&&&…u8`).
    let mut n = n;
    for _ in 0..MAX_DEPTH {
        match node_kind(n) {
            "generic_type" | "reference_type" => match n.child_by_field_id(F.type_.get()) {
                Some(t) => n = t,
                None => return String::new(),
            },
            "scoped_type_identifier" => return path_text(n, src),
            _ => return text(n, src).to_string(),
        }
    }
    String::new()
}

/// A parameter type as an expression: the named type, generics as subscripts
/// (`Json<Item>` → `Subscript(Json, [Item])`), references stripped.
fn ty_expr(n: Node, src: &[u8]) -> Expr {
    ty_expr_n(n, src, 0)
}

fn ty_expr_n(n: Node, src: &[u8], depth: u32) -> Expr {
    if depth > MAX_DEPTH {
        return Expr::Other;
    }
    match node_kind(n) {
        "generic_type" => {
            let base = n
                .child_by_field_id(F.type_.get())
                .map(|t| ty_expr_n(t, src, depth + 1))
                .unwrap_or(Expr::Other);
            let mut subs = vec![];
            if let Some(args) = n.child_by_field_id(F.type_arguments.get()) {
                let mut w = args.walk();
                subs = args
                    .named_children(&mut w)
                    .map(|a| ty_expr_n(a, src, depth + 1))
                    .collect();
            }
            Expr::subscript(base, subs.into())
        }
        "reference_type" => n
            .child_by_field_id(F.type_.get())
            .map(|t| ty_expr_n(t, src, depth + 1))
            .unwrap_or(Expr::Other),
        "type_identifier" | "scoped_type_identifier" | "identifier" | "primitive_type" => {
            Expr::Name(type_name(n, src).into(), pos_of(n, src))
        }
        _ => Expr::Other,
    }
}

fn use_tree(n: Option<Node>, prefix: &str, src: &[u8], pos: Pos, out: &mut Vec<Import>) {
    use_tree_n(n, prefix, src, pos, out, 0)
}

fn use_tree_n(
    n: Option<Node>,
    prefix: &str,
    src: &[u8],
    pos: Pos,
    out: &mut Vec<Import>,
    depth: u32,
) {
    let Some(n) = n else { return };
    if depth > MAX_DEPTH {
        return;
    }
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    match node_kind(n) {
        "identifier" | "scoped_identifier" | "crate" | "self" | "super" => {
            let path = join(prefix, &path_text(n, src));
            let last = path.rsplit("::").next().unwrap_or(&path).to_string();
            if last == "self" {
                // `use a::b::{self}` binds `b`.
                let target = path.trim_end_matches("::self").to_string();
                let local = target.rsplit("::").next().unwrap_or(&target).to_string();
                out.push(Import {
                    local: local.into(),
                    target: target.into(),
                    level: 0,
                    glob: false,
                    pos,
                    in_function: false,
                });
            } else {
                out.push(Import {
                    local: last.into(),
                    target: path.into(),
                    level: 0,
                    glob: false,
                    pos,
                    in_function: false,
                });
            }
        }
        "use_as_clause" => {
            if let (Some(p), Some(a)) = (
                n.child_by_field_id(F.path.get()),
                n.child_by_field_id(F.alias.get()),
            ) {
                out.push(Import {
                    local: text(a, src).into(),
                    target: join(prefix, &path_text(p, src)).into(),
                    level: 0,
                    glob: false,
                    pos,
                    in_function: false,
                });
            }
        }
        "scoped_use_list" => {
            let p = n
                .child_by_field_id(F.path.get())
                .map(|p| join(prefix, &path_text(p, src)))
                .unwrap_or_else(|| prefix.to_string());
            use_tree_n(
                n.child_by_field_id(F.list.get()),
                &p,
                src,
                pos,
                out,
                depth + 1,
            );
        }
        "use_list" => {
            let mut w = n.walk();
            for c in n.named_children(&mut w) {
                use_tree_n(Some(c), prefix, src, pos, out, depth + 1);
            }
        }
        "use_wildcard" => {
            let t = path_text(n, src);
            let t = t.trim_end_matches('*').trim_end_matches("::");
            out.push(Import {
                local: Text::default(),
                target: join(prefix, t).into(),
                level: 0,
                glob: true,
                pos,
                in_function: false,
            });
        }
        _ => {}
    }
}

/// Path text without whitespace or turbofish generics: `Vec::<u8>::new` → `Vec::new`.
fn path_text(n: Node, src: &[u8]) -> String {
    let t = text(n, src);
    let mut out = String::with_capacity(t.len());
    let mut depth = 0u32;
    for ch in t.chars() {
        match ch {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            c if depth == 0 && !c.is_whitespace() => out.push(c),
            _ => {}
        }
    }
    out.replace("::::", "::").trim_end_matches("::").to_string()
}

/// `#[get("/x", data = "<b>")]` → `Call(get, ["/x", data="<b>"])`; `#[launch]` → `Name(launch)`.
fn attribute(a: Node, src: &[u8]) -> Expr {
    let path = a
        .named_child(0)
        .map(|p| path_text(p, src))
        .unwrap_or_default();
    let pos = pos_of(a, src);
    match a.child_by_field_id(F.arguments.get()) {
        Some(tt) => Expr::Call(Box::new(CallExpr {
            func: Expr::Name(path.into(), pos),
            args: thin(token_args(tt, src)),
            pos,
            start: pos,
        })),
        None => Expr::Name(path.into(), pos),
    }
}

/// Split a token tree at top-level commas into arguments: string literals,
/// paths (`a::b`), `name = "value"` pairs.
fn token_args(tt: Node, src: &[u8]) -> Vec<Arg> {
    let mut w = tt.walk();
    let children: Vec<Node> = tt.children(&mut w).collect();
    token_args_of(tt, &children, src)
}

/// [`token_args`] with the tree's children already listed.
fn token_args_of(tt: Node, children: &[Node], src: &[u8]) -> Vec<Arg> {
    let mut args = vec![];
    let mut group: Vec<Node> = vec![];
    let inner = if children.len() >= 2 {
        &children[1..children.len() - 1]
    } else {
        children
    };
    for &c in inner
        .iter()
        .filter(|c| !node_kind(**c).ends_with("comment"))
        .chain(std::iter::once(&tt))
    {
        if c == tt || node_kind(c) == "," {
            if !group.is_empty() {
                args.push(token_group(&group, src));
                group.clear();
            }
        } else {
            group.push(c);
        }
    }
    args
}

fn token_group(g: &[Node], src: &[u8]) -> Arg {
    let lit = |n: Node| -> Expr {
        match node_kind(n) {
            "string_literal" | "raw_string_literal" => Expr::Str(string_value(n, src).into()),
            "integer_literal" | "float_literal" => Expr::Num(text(n, src).into()),
            "boolean_literal" => Expr::Bool(text(n, src) == "true"),
            _ => Expr::Other,
        }
    };
    if g.len() == 3 && node_kind(g[1]) == "=" && node_kind(g[0]) == "identifier" {
        return Arg {
            name: Some(text(g[0], src).into()),
            value: lit(g[2]),
        };
    }
    if g.len() == 1 && node_kind(g[0]) != "identifier" {
        return Arg {
            name: None,
            value: lit(g[0]),
        };
    }
    if g.iter().all(|n| {
        matches!(
            node_kind(*n),
            "identifier" | "::" | "crate" | "self" | "super"
        )
    }) {
        let path: String = g.iter().map(|n| text(*n, src)).collect();
        return Arg {
            name: None,
            value: Expr::Name(path.into(), pos_of(g[0], src)),
        };
    }
    Arg {
        name: None,
        value: Expr::Other,
    }
}

fn string_value(n: Node, src: &[u8]) -> String {
    let t = text(n, src);
    if node_kind(n) == "raw_string_literal" {
        let t = t.trim_start_matches('r').trim_start_matches('b');
        let hashes = t.chars().take_while(|&c| c == '#').count();
        let t = &t[hashes..t.len().saturating_sub(hashes)];
        let mut out = String::new();
        push_capped(&mut out, t.trim_matches('"'));
        return out;
    }
    let t = t.strip_prefix('b').unwrap_or(t);
    let mut out = String::new();
    push_capped(
        &mut out,
        t.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(t),
    );
    out
}

/// Calls in a macro's token tree: `a::b(x, y)` and `recv.method(x)`, their
/// arguments read as tokens (literals and paths), nested trees searched too
/// (bounded depth).
fn token_calls(tt: Node, src: &[u8], depth: u32) -> Vec<CallExpr> {
    let mut out = vec![];
    let mut w = tt.walk();
    let toks: Vec<Node> = tt.children(&mut w).collect();
    token_calls_in(&toks, src, depth, &mut out);
    out
}

/// [`token_calls`] over a token tree's children, each tree's children
/// listed once (they are also the found call's arguments).
fn token_calls_in<'t>(toks: &[Node<'t>], src: &[u8], depth: u32, out: &mut Vec<CallExpr>) {
    if depth > 8 {
        return;
    }
    let ident = |n: Node| matches!(node_kind(n), "identifier" | "self" | "crate" | "super");
    fn children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
        let mut w = n.walk();
        n.children(&mut w).collect()
    }
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        if node_kind(t) == "token_tree" {
            token_calls_in(&children(t), src, depth + 1, out);
            i += 1;
            continue;
        }
        if !ident(t) {
            i += 1;
            continue;
        }
        // A path `a::b::c` or a dotted access `a.b`, then `(`: found first,
        // the name built only for a call.
        let start = i;
        let mut j = i + 1;
        while j + 1 < toks.len()
            && matches!(text(toks[j], src), "::" | ".")
            && matches!(node_kind(toks[j + 1]), "identifier" | "self" | "super")
        {
            j += 2;
        }
        if j < toks.len()
            && node_kind(toks[j]) == "token_tree"
            && text(toks[j], src).starts_with('(')
            && !(start > 0 && text(toks[start - 1], src) == "!")
        {
            let path: String = toks[start..j].iter().map(|n| text(*n, src)).collect();
            let p = pos_of(toks[start], src);
            let inner = children(toks[j]);
            out.push(CallExpr {
                func: Expr::Name(path.into(), p),
                args: thin(token_args_of(toks[j], &inner, src)),
                pos: p,
                start: p,
            });
            token_calls_in(&inner, src, depth + 1, out);
            i = j + 1;
            continue;
        }
        i = j.max(i + 1);
    }
}

/// Longest builder chain converted along its spine (past it, the rest nests).
const MAX_CHAIN: usize = 256;

/// A call's arguments.
fn call_args(n: Node, src: &[u8], d: u32, cov: &mut Cover) -> Vec<Arg> {
    let al = n.child_by_field_id(F.arguments.get());
    let mut args = Vec::with_capacity(al.map_or(0, |a| a.named_child_count()));
    if let Some(al) = al {
        let mut w = al.walk();
        for a in al.named_children(&mut w) {
            match node_kind(a) {
                "line_comment" | "block_comment" => {}
                "attribute_item" => cov.gap(),
                _ => args.push(Arg {
                    name: None,
                    value: conv_c(a, src, d, cov),
                }),
            }
        }
    }
    args
}

pub fn conv(n: Node, src: &[u8], depth: u32) -> Expr {
    conv_c(n, src, depth, &mut Cover::off())
}

/// [`conv`], recording every call node converted into `cov`, and every
/// child left unconverted as a gap (see [`Cover`]).
pub fn conv_c(n: Node, src: &[u8], depth: u32, cov: &mut Cover) -> Expr {
    if depth > MAX_DEPTH {
        cov.gap();
        return Expr::Other;
    }
    let d = depth + 1;
    match node_kind(n) {
        "identifier" | "self" | "crate" | "super" | "type_identifier" => {
            Expr::Name(text(n, src).into(), pos_of(n, src))
        }
        "scoped_identifier" | "scoped_type_identifier" => {
            // Generic arguments (`Vec::<T>::new`) are dropped from the path.
            if memchr::memchr(b'<', text(n, src).as_bytes()).is_some() {
                cov.gap();
            }
            Expr::Name(path_text(n, src).into(), pos_of(n, src))
        }
        "generic_function" => {
            cov.gap();
            n.child_by_field_id(F.function.get())
                .map(|f| conv_c(f, src, d, cov))
                .unwrap_or(Expr::Other)
        }
        "field_expression" => {
            let (Some(v), Some(f)) = (
                n.child_by_field_id(F.value.get()),
                n.child_by_field_id(F.field.get()),
            ) else {
                cov.gap();
                return Expr::Other;
            };
            let field = text(f, src).to_string();
            match conv_c(v, src, d, cov) {
                Expr::Name(b, p) if !b.contains("::") => {
                    Expr::Name(Text::from(format!("{b}.{field}")), p)
                }
                other => Expr::attr(other, field.into(), pos_of(f, src)),
            }
        }
        "call_expression" => {
            // A builder chain (`App::new().service(a).service(b)...`) is
            // converted along its spine iteratively: real route tables chain
            // dozens of calls, deeper than the recursion bound.
            let mut frames: Vec<(Node, Node)> = vec![];
            let mut cur = n;
            while frames.len() < MAX_CHAIN && node_kind(cur) == "call_expression" {
                let Some(fe) = cur
                    .child_by_field_id(F.function.get())
                    .filter(|f| node_kind(*f) == "field_expression")
                else {
                    break;
                };
                let (Some(v), Some(field)) = (
                    fe.child_by_field_id(F.value.get()),
                    fe.child_by_field_id(F.field.get()),
                ) else {
                    break;
                };
                frames.push((cur, field));
                cur = v;
            }
            if frames.len() > 1 {
                let before = cov.gaps();
                let mut value = conv_c(cur, src, d, cov);
                for (call, field) in frames.into_iter().rev() {
                    if call.named_child_count() != 2 {
                        cov.gap();
                    }
                    let name = text(field, src).to_string();
                    let func = match value {
                        Expr::Name(b, p) if !b.contains("::") => {
                            Expr::Name(Text::from(format!("{b}.{name}")), p)
                        }
                        other => Expr::attr(other, name.into(), pos_of(field, src)),
                    };
                    let args = call_args(call, src, d, cov);
                    cov.mark_call(call.id(), before);
                    let pos = match &func {
                        Expr::Attr(a) => a.pos,
                        _ => pos_of(call, src),
                    };
                    value = Expr::Call(Box::new(CallExpr {
                        func,
                        args: thin(args),
                        pos,
                        start: pos_of(call, src),
                    }));
                }
                return value;
            }
            let before = cov.gaps();
            if n.named_child_count() != 2 {
                cov.gap();
            }
            let func = n
                .child_by_field_id(F.function.get())
                .map(|f| conv_c(f, src, d, cov))
                .unwrap_or(Expr::Other);
            let al = n.child_by_field_id(F.arguments.get());
            let mut args = Vec::with_capacity(al.map_or(0, |a| a.named_child_count()));
            if let Some(al) = al {
                let mut w = al.walk();
                for a in al.named_children(&mut w) {
                    match node_kind(a) {
                        "line_comment" | "block_comment" => {}
                        "attribute_item" => cov.gap(),
                        _ => args.push(Arg {
                            name: None,
                            value: conv_c(a, src, d, cov),
                        }),
                    }
                }
            }
            cov.mark_call(n.id(), before);
            // A method call's position is its method name (`.route(` in a chain),
            // a plain call's is its start.
            let pos = match &func {
                Expr::Attr(a) => a.pos,
                _ => pos_of(n, src),
            };
            Expr::Call(Box::new(CallExpr {
                func,
                args: thin(args),
                pos,
                start: pos_of(n, src),
            }))
        }
        "string_literal" | "raw_string_literal" => Expr::Str(string_value(n, src).into()),
        "integer_literal" | "float_literal" => Expr::Num(text(n, src).into()),
        "boolean_literal" => Expr::Bool(text(n, src) == "true"),
        "unary_expression" if n.child(0).is_some_and(|c| node_kind(c) == "!") => {
            if n.named_child_count() != 1 {
                cov.gap();
            }
            Expr::Not(Box::new(
                n.named_child(0)
                    .map(|c| conv_c(c, src, d, cov))
                    .unwrap_or(Expr::Other),
            ))
        }
        "binary_expression" => {
            let (Some(l), Some(r)) = (
                n.child_by_field_id(F.left.get()),
                n.child_by_field_id(F.right.get()),
            ) else {
                cov.gap();
                return Expr::Other;
            };
            let op = n
                .child_by_field_id(F.operator.get())
                .map(|o| text(o, src))
                .unwrap_or("");
            let (l, r) = (conv_c(l, src, d, cov), conv_c(r, src, d, cov));
            match op {
                "&&" | "||" => {
                    let and = op == "&&";
                    let mut parts = vec![];
                    for x in [l, r] {
                        match x {
                            Expr::Logic(a, xs) if a == and => parts.extend(xs),
                            x => parts.push(x),
                        }
                    }
                    Expr::Logic(and, thin(parts))
                }
                _ => Expr::Mix(thin_vec![l, r]),
            }
        }
        "array_expression" | "tuple_expression" => {
            let mut w = n.walk();
            Expr::List(thin(
                n.named_children(&mut w)
                    .filter(|c| !node_kind(*c).ends_with("comment"))
                    .map(|c| conv_c(c, src, d, cov))
                    .collect(),
            ))
        }
        "macro_invocation" => {
            // Matched by a query of its own: a gap in any enclosing call.
            cov.gap();
            let name = n
                .child_by_field_id(F.macro_.get())
                .map(|m| path_text(m, src))
                .unwrap_or_default();
            let mut w = n.walk();
            let tt = n
                .named_children(&mut w)
                .find(|c| node_kind(*c) == "token_tree");
            let parts = tt
                .map(|t| token_args(t, src).into_iter().map(|a| a.value).collect())
                .unwrap_or_default();
            Expr::Macro(Box::new(MacroCall {
                name,
                parts,
                pos: pos_of(n, src),
            }))
        }
        "struct_expression" => {
            // `GovernorLayer { config }` builds a value of that type; the
            // field values are not converted.
            cov.gap();
            let name = n
                .child_by_field_id(F.name.get())
                .map(|t| path_text(t, src))
                .unwrap_or_default();
            Expr::Call(Box::new(CallExpr {
                func: Expr::Name(name.into(), pos_of(n, src)),
                args: ThinVec::new(),
                pos: pos_of(n, src),
                start: pos_of(n, src),
            }))
        }
        // `if c { a } else { b }` as a value: one of its branches' values.
        // The condition is not converted (a gap).
        "if_expression" => {
            cov.gap();
            let mut parts = vec![];
            let mut cur = Some(n);
            let mut guard = 0;
            while let Some(node) = cur.filter(|_| guard < 32) {
                guard += 1;
                if let Some(b) = node.child_by_field_id(F.consequence.get()) {
                    parts.push(conv_c(b, src, d, cov));
                }
                cur = node
                    .child_by_field_id(F.alternative.get())
                    .and_then(|e| e.named_child(0))
                    .filter(|x| {
                        if node_kind(*x) == "block" {
                            parts.push(conv_c(*x, src, d, cov));
                            false
                        } else {
                            node_kind(*x) == "if_expression"
                        }
                    });
            }
            Expr::Mix(thin(parts))
        }
        "closure_expression" => Expr::Closure(Box::new(
            n.child_by_field_id(F.body.get())
                .map(|b| conv_c(b, src, d, cov))
                .unwrap_or(Expr::Other),
        )),
        "await_expression" | "try_expression" | "parenthesized_expression" => {
            if n.named_child_count() != 1 {
                cov.gap();
            }
            if node_kind(n) == "try_expression" {
                let mut inner = n.named_child(0);
                while let Some(x) = inner.filter(|x| node_kind(*x) == "await_expression") {
                    inner = x.named_child(0);
                }
                if let Some(x) = inner.filter(|x| node_kind(*x) == "call_expression") {
                    cov.tried(pos_of(x, src));
                }
            }
            n.named_child(0)
                .map(|c| conv_c(c, src, d, cov))
                .unwrap_or(Expr::Other)
        }
        "reference_expression" => {
            // `&x`, `&mut x`
            let count = n.named_child_count();
            let mutable = count == 2
                && n.named_child(0)
                    .is_some_and(|c| node_kind(c) == "mutable_specifier");
            if count != 1 && !mutable {
                cov.gap();
            }
            n.child_by_field_id(F.value.get())
                .map(|c| conv_c(c, src, d, cov))
                .unwrap_or(Expr::Other)
        }
        "block" => {
            // The value of a block is its tail expression; statements before
            // it are not converted.
            let count = n.named_child_count();
            if count != 1 {
                cov.gap();
            }
            if count == 0 {
                return Expr::Other;
            }
            let last = n.named_child((count - 1) as u32).unwrap();
            if node_kind(last).ends_with("_statement")
                || node_kind(last).ends_with("_declaration")
                || node_kind(last).ends_with("_item")
                || node_kind(last).ends_with("comment")
            {
                cov.gap();
                Expr::Other
            } else {
                conv_c(last, src, d, cov)
            }
        }
        _ => {
            if n.child_count() > 0 {
                cov.gap();
            }
            Expr::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(src: &str) -> (String, String) {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&Lang::Rust.grammar()).unwrap();
        let tree = parser.parse(src, None).unwrap();
        let walk = extract_inner(&tree, src.as_bytes(), "x.rs".into(), true, false);
        let links = extract_inner(&tree, src.as_bytes(), "x.rs".into(), true, true);
        (format!("{walk:?}"), format!("{links:?}"))
    }

    /// Names and attributes read off the walk are those the tree's parent
    /// and sibling links give.
    #[test]
    fn walk_context_matches_tree_links() {
        let cases = [
            "#[get(\"/a\")]\n/// doc\n// note\n/* block /* nested */ */\n#[inline]\npub async fn a() {}\n",
            "mod m { impl S { #[post(\"/b\")] fn b() { #[cfg(x)] fn inner() {} struct In; } } }\n",
            "#[derive(Debug)]\nenum E { A }\nfn after_enum() {}\n#![allow(x)]\nfn f() {}\n",
            "struct S { #[serde(x)] f: u8 }\nfn g() {}\ntrait T { #[x] fn m(); fn d() {} }\n",
            "impl<T> X for Y<T> { fn a() {} } mod n { fn b() { mod deep { fn c() {} } } }\n",
            "#[a] #[b] fn two() {} #[c] // trailing\nfn one() {}\n",
        ];
        let mut paths = vec![];
        fn rs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    rs(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        rs(std::path::Path::new("tests/fixtures"), &mut paths);
        assert!(paths.len() > 5);
        let files: Vec<String> = paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        let mut decorated = 0;
        for src in cases
            .iter()
            .copied()
            .chain(files.iter().map(String::as_str))
        {
            let (walk, links) = both(src);
            assert_eq!(walk, links, "{src}");
            decorated +=
                walk.matches("decorators: [N").count() + walk.matches("decorators: [C").count();
        }
        assert!(decorated > 10, "definitions with attributes: {decorated}");
    }
}
