//! Python: decode the captures of `queries/python/*.scm` into [`FileFacts`].

use super::*;
use std::num::NonZeroU16 as FieldId;
use std::sync::LazyLock;
use tree_sitter::{Node, Tree};

const MAX_DEPTH: u32 = 48;

/// Field ids of the grammar (see [`field_id`]).
struct Fields {
    alias: FieldId,
    argument: FieldId,
    arguments: FieldId,
    attribute: FieldId,
    body: FieldId,
    expression: FieldId,
    function: FieldId,
    key: FieldId,
    left: FieldId,
    module_name: FieldId,
    name: FieldId,
    object: FieldId,
    operator: FieldId,
    parameters: FieldId,
    return_type: FieldId,
    right: FieldId,
    subscript: FieldId,
    superclasses: FieldId,
    type_: FieldId,
    value: FieldId,
}

/// Node kind names by kind id (see [`KindNames`]).
static KINDS: LazyLock<KindNames> = LazyLock::new(|| KindNames::new(Lang::Python));

fn node_kind(n: Node) -> &'static str {
    KINDS.of(n)
}

static STRING: LazyLock<u16> =
    LazyLock::new(|| Lang::Python.grammar().id_for_node_kind("string", true));

/// A string literal whose prefix (`r`, `b`, `u`, none) rules out interpolation.
fn plain_string(n: Node, src: &[u8]) -> bool {
    src[n.start_byte()..]
        .iter()
        .take_while(|b| !matches!(b, b'"' | b'\''))
        .all(|b| matches!(b, b'r' | b'R' | b'b' | b'B' | b'u' | b'U'))
}

static F: LazyLock<Fields> = LazyLock::new(|| {
    let id = |name| field_id(Lang::Python, name);
    Fields {
        alias: id("alias"),
        argument: id("argument"),
        arguments: id("arguments"),
        attribute: id("attribute"),
        body: id("body"),
        expression: id("expression"),
        function: id("function"),
        key: id("key"),
        left: id("left"),
        module_name: id("module_name"),
        name: id("name"),
        object: id("object"),
        operator: id("operator"),
        parameters: id("parameters"),
        return_type: id("return_type"),
        right: id("right"),
        subscript: id("subscript"),
        superclasses: id("superclasses"),
        type_: id("type"),
        value: id("value"),
    }
});

pub fn extract(tree: &Tree, src: &[u8], path: String) -> FileFacts {
    extract_with(tree, src, path, true)
}

/// [`extract`], with the walk's pruning of complete calls on or off (off:
/// every node is visited; a test asserts both give the same facts).
pub fn extract_with(tree: &Tree, src: &[u8], path: String, prune: bool) -> FileFacts {
    let mut ff = FileFacts::new(path, Lang::Python, src.len());
    ff.has_errors = tree.root_node().has_error();
    let matcher = Lang::Python.matcher();
    let names = matcher.capture_names();

    let mut defs: Vec<Node> = vec![];
    let mut imports: Vec<Node> = vec![];
    let mut returns: Vec<Node> = vec![];
    let mut yields: Vec<Node> = vec![];
    let mut raises: Vec<Node> = vec![];
    // (statement, condition, guarded block, is it the `else` block)
    let mut branches: Vec<(Node, Node, Node, bool)> = vec![];
    let mut subs: Vec<(Node, Node, Node)> = vec![];
    // Assignments and calls are converted during the walk, in pre-order (an
    // assignment before the calls in its value, an outer call before the
    // calls in its arguments), so that each call is converted once: calls
    // converted inside an assignment value or an outer call are covered.
    // A covered call converted without gaps is complete, and the walk skips
    // its subtree. Trees with syntax errors are walked whole.
    let mut cov = Cover::on();
    let prune = prune && !ff.has_errors;
    let mut assigns: Vec<(Node, String, Expr)> = vec![];
    let mut calls: Vec<(Node, CallExpr)> = vec![];
    let skip = std::cell::Cell::new(None);
    matcher.for_each_match_pruned(
        tree.root_node(),
        |_, captures| {
            let mut target = None;
            let mut value = None;
            let mut whole = None;
            let mut looped = false;
            let (mut sv, mut sk, mut sw) = (None, None, None);
            let (mut bc, mut bb, mut bw, mut be) = (None, None, None, None);
            for &(index, node) in captures {
                match names[index as usize].as_str() {
                    "sub.value" => sv = Some(node),
                    "sub.key" => sk = Some(node),
                    "sub" => sw = Some(node),
                    "def.function" | "def.class" => defs.push(node),
                    "call" => {
                        if !cov.contains(node.id()) {
                            if let Expr::Call(c) = conv_c(node, src, 0, &mut cov) {
                                calls.push((node, *c));
                            }
                        }
                        if prune && cov.complete(node.id()) {
                            skip.set(Some(node.id()));
                        }
                    }
                    "import" | "import.from" => imports.push(node),
                    "return" => returns.push(node),
                    "yield" => yields.push(node),
                    "raise" => raises.push(node),
                    "branch.cond" => bc = Some(node),
                    "branch.body" => bb = Some(node),
                    "branch" => bw = Some(node),
                    "branch.else" => be = Some(node),
                    "assign.target" => target = Some(node),
                    "assign.value" => value = Some(node),
                    "loop.value" => {
                        value = Some(node);
                        looped = true;
                    }
                    // A comprehension's variable is bound for the whole
                    // comprehension, its element expression (written first) too.
                    "assign" if node_kind(node) == "for_in_clause" => {
                        whole = node.parent().or(Some(node))
                    }
                    "assign" => whole = Some(node),
                    _ => {}
                }
            }
            if let (Some(t), Some(v), Some(w)) = (target, value, whole) {
                if matches!(node_kind(t), "identifier" | "attribute") {
                    let mut value = conv_c(v, src, 0, &mut cov);
                    if looped {
                        value = Expr::Element(Box::new(value));
                    }
                    // `name += ".txt"` keeps what `name` held.
                    if node_kind(w) == "augmented_assignment" {
                        value = Expr::Mix(thin_vec![
                            Expr::Name(text(t, src).into(), pos_of(t, src)),
                            value,
                        ]);
                    }
                    assigns.push((w, text(t, src).to_string(), value));
                } else if matches!(node_kind(t), "pattern_list" | "tuple_pattern") && !looped {
                    // `d, name = a, b`: each name its part of the value (or
                    // an element of it when the value is not a literal tuple).
                    let value = conv_c(v, src, 0, &mut cov);
                    let mut tw = t.walk();
                    let names: Vec<Node> = t.named_children(&mut tw).collect();
                    for (i, x) in names.iter().enumerate() {
                        if node_kind(*x) != "identifier" {
                            continue;
                        }
                        let part = match &value {
                            Expr::List(xs) if xs.len() == names.len() => xs[i].clone(),
                            other => Expr::Element(Box::new(other.clone())),
                        };
                        assigns.push((w, text(*x, src).to_string(), part));
                    }
                }
            }
            if let (Some(v), Some(k), Some(w)) = (sv, sk, sw) {
                subs.push((w, v, k));
            }
            if let (Some(c), Some(b), Some(w)) = (bc, bb, bw) {
                branches.push((w, c, b, false));
            }
            if let (Some(c), Some(e), Some(w)) = (bc, be, bw) {
                branches.push((w, c, e, true));
            }
        },
        // A string without an `f` prefix has no interpolation: nothing below
        // it can match.
        |n| {
            skip.get() != Some(n.id()) && !(prune && n.kind_id() == *STRING && plain_string(n, src))
        },
    );

    // Definitions first: everything else is scoped by them.
    defs.sort_by_key(|n| n.start_byte());
    defs.dedup_by_key(|n| n.start_byte());
    let ranges: Vec<(usize, usize)> = defs
        .iter()
        .map(|n| (n.start_byte(), n.end_byte()))
        .collect();
    let scopes = Scopes::new(&ranges);
    let scope_of = |n: Node| -> Option<usize> { scopes.enclosing(n.start_byte(), n.end_byte()) };
    let mut nest = super::Nesting::default();
    for (i, &n) in defs.iter().enumerate() {
        let parent = scopes.parent(i);
        let base = n
            .child_by_field_id(F.name.get())
            .map(|x| text(x, src))
            .unwrap_or("");
        let name = match parent {
            Some(p) => format!("{}.{}", nest.prefix(p, &ff.defs), base),
            None => base.to_string(),
        };
        nest.push(parent);
        let kind = if node_kind(n) == "class_definition" {
            DefKind::Class
        } else {
            DefKind::Function
        };
        let mut decorators = vec![];
        if let Some(dd) = n
            .parent()
            .filter(|p| node_kind(*p) == "decorated_definition")
        {
            let mut w = dd.walk();
            for d in dd.named_children(&mut w) {
                if node_kind(d) == "decorator" {
                    if let Some(e) = d.named_child(0) {
                        decorators.push(conv(e, src, 0));
                    }
                }
            }
        }
        let mut params = vec![];
        if let Some(ps) = n.child_by_field_id(F.parameters.get()) {
            let mut w = ps.walk();
            for p in ps.named_children(&mut w) {
                if let Some(param) = param(p, src) {
                    params.push(param);
                }
            }
        }
        let mut bases = vec![];
        if let Some(sc) = n.child_by_field_id(F.superclasses.get()) {
            let mut w = sc.walk();
            for b in sc.named_children(&mut w) {
                if node_kind(b) != "keyword_argument" && node_kind(b) != "comment" {
                    bases.push(conv(b, src, 0));
                }
            }
        }
        ff.defs.push(Def {
            name: name.into(),
            kind,
            pos: pos_of(n.child_by_field_id(F.name.get()).unwrap_or(n), src),
            decorators: decorators.into(),
            params: params.into(),
            bases: bases.into(),
            parent,
            attrs: ThinVec::new(),
            returns: ThinVec::new(),
            ret: n
                .child_by_field_id(F.return_type.get())
                .map(|t| conv(t, src, 0)),
            start_byte: n.start_byte(),
            end_byte: n.end_byte(),
        });
    }

    for n in imports {
        let before = ff.imports.len();
        import(n, src, &mut ff.imports);
        let inside = scope_of(n).is_some_and(|s| ff.defs[s].kind == DefKind::Function);
        for im in &mut ff.imports[before..] {
            im.in_function = inside;
        }
    }
    // Statements: converted without the walk's cover, so that the calls in
    // them stay calls of their own.
    let mut stmts: Vec<(usize, Stmt)> = Vec::with_capacity(returns.len() + raises.len());
    // A generator's yielded values count as what it gives (not as exits).
    for n in yields {
        if let (Some(s), Some(v)) = (scope_of(n), n.named_child(0)) {
            ff.defs[s].returns.push(conv(v, src, 0));
        }
    }
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
                value: value.unwrap_or(Expr::NoneLit),
                scope: scope.into(),
                pos: pos_of(n, src),
                body: None,
            },
        ));
    }
    for n in raises {
        // A bare `raise` re-raises: nothing new is decided there.
        if let Some(v) = n.named_child(0) {
            let v = if node_kind(v) == "expression_list" {
                v.named_child(0).unwrap_or(v)
            } else {
                v
            };
            stmts.push((
                n.start_byte(),
                Stmt {
                    kind: StmtKind::Raise,
                    value: conv(v, src, 0),
                    scope: scope_of(n).into(),
                    pos: pos_of(n, src),
                    body: None,
                },
            ));
        }
    }
    for (w, c, b, negated) in branches {
        let cond = conv(c, src, 0);
        stmts.push((
            if negated {
                b.start_byte()
            } else {
                w.start_byte()
            },
            Stmt {
                kind: StmtKind::Branch,
                value: if negated {
                    Expr::Not(Box::new(cond))
                } else {
                    cond
                },
                scope: scope_of(w).into(),
                pos: pos_of(if negated { b } else { w }, src),
                body: Some((pos_of(b, src), end_pos_of(b, src))),
            },
        ));
    }
    stmts.sort_by_key(|s| s.0);
    ff.stmts = stmts.into_iter().map(|s| s.1).collect();
    for (w, target, value) in assigns {
        let scope = scope_of(w);
        if let Some(s) = scope.filter(|&s| ff.defs[s].kind == DefKind::Class) {
            ff.defs[s].attrs.push(ff.assigns.len());
        }
        ff.assigns.push(Assign {
            target: target.into(),
            value,
            scope: scope.into(),
            pos: pos_of(w, src),
        });
    }
    for (w, mut v, k) in subs {
        if let Some(key) = string_value(k, src) {
            // A subscript names what its base names (`content["data"]["id"]`
            // resolves as `content`, see `Index::resolve_expr`): only the
            // innermost base is kept. The whole chain repeated every inner
            // level in every outer one, 6 % of all facts held on saleor.
            while let Some(inner) = (node_kind(v) == "subscript")
                .then(|| v.child_by_field_id(F.value.get()))
                .flatten()
            {
                v = inner;
            }
            ff.subscripts.push(Subscript {
                base: conv(v, src, 0),
                key: key.into(),
                scope: scope_of(w).into(),
                pos: pos_of(w, src),
            });
        }
    }
    for (n, call) in calls {
        ff.calls.push(Call {
            call,
            scope: scope_of(n).into(),
        });
    }
    ff.shrink();
    ff
}

fn param(p: Node, src: &[u8]) -> Option<Param> {
    let ident = |n: Node| -> Option<String> {
        if node_kind(n) == "identifier" {
            Some(text(n, src).to_string())
        } else {
            None
        }
    };
    match node_kind(p) {
        "identifier" => Some(Param {
            name: text(p, src).into(),
            ty: None,
            default: None,
        }),
        "typed_parameter" => {
            let name = p.named_child(0).and_then(ident)?;
            Some(Param {
                name: name.into(),
                ty: p.child_by_field_id(F.type_.get()).map(|t| conv(t, src, 0)),
                default: None,
            })
        }
        "default_parameter" | "typed_default_parameter" => Some(Param {
            name: p.child_by_field_id(F.name.get()).and_then(ident)?.into(),
            ty: p.child_by_field_id(F.type_.get()).map(|t| conv(t, src, 0)),
            default: p.child_by_field_id(F.value.get()).map(|t| conv(t, src, 0)),
        }),
        _ => None,
    }
}

fn import(n: Node, src: &[u8], out: &mut Vec<Import>) {
    let pos = pos_of(n, src);
    if node_kind(n) == "import_statement" {
        let mut w = n.walk();
        for c in n.children_by_field_id(F.name, &mut w) {
            match node_kind(c) {
                "dotted_name" => {
                    let t = text(c, src);
                    let head = t.split('.').next().unwrap_or(t);
                    out.push(Import {
                        local: head.into(),
                        target: head.into(),
                        level: 0,
                        glob: false,
                        pos,
                        in_function: false,
                    });
                }
                "aliased_import" => {
                    if let (Some(name), Some(alias)) = (
                        c.child_by_field_id(F.name.get()),
                        c.child_by_field_id(F.alias.get()),
                    ) {
                        out.push(Import {
                            local: text(alias, src).into(),
                            target: text(name, src).into(),
                            level: 0,
                            glob: false,
                            pos,
                            in_function: false,
                        });
                    }
                }
                _ => {}
            }
        }
        return;
    }
    // from X import a, b as c
    let Some(m) = n.child_by_field_id(F.module_name.get()) else {
        return;
    };
    let (level, module) = if node_kind(m) == "relative_import" {
        let mut level = 0;
        let mut module = String::new();
        let mut w = m.walk();
        for c in m.named_children(&mut w) {
            match node_kind(c) {
                "import_prefix" => level = text(c, src).matches('.').count() as u32,
                "dotted_name" => module = text(c, src).to_string(),
                _ => {}
            }
        }
        (level, module)
    } else {
        (0, text(m, src).to_string())
    };
    let join = |name: &str| {
        if module.is_empty() {
            name.to_string()
        } else {
            format!("{module}.{name}")
        }
    };
    let mut w = n.walk();
    let mut any = false;
    for c in n.children_by_field_id(F.name, &mut w) {
        any = true;
        match node_kind(c) {
            "dotted_name" => {
                let t = text(c, src);
                out.push(Import {
                    local: t.rsplit('.').next().unwrap_or(t).into(),
                    target: join(t).into(),
                    level,
                    glob: false,
                    pos,
                    in_function: false,
                });
            }
            "aliased_import" => {
                if let (Some(name), Some(alias)) = (
                    c.child_by_field_id(F.name.get()),
                    c.child_by_field_id(F.alias.get()),
                ) {
                    out.push(Import {
                        local: text(alias, src).into(),
                        target: join(text(name, src)).into(),
                        level,
                        glob: false,
                        pos,
                        in_function: false,
                    });
                }
            }
            _ => {}
        }
    }
    if !any {
        let mut w = n.walk();
        if n.named_children(&mut w)
            .any(|c| node_kind(c) == "wildcard_import")
        {
            out.push(Import {
                local: Text::default(),
                target: module.clone().into(),
                level,
                glob: true,
                pos,
                in_function: false,
            });
        }
    }
}

/// An f-string's parts in order: its literal text and the expressions
/// interpolated into it.
fn interpolations(n: Node, src: &[u8], depth: u32, cov: &mut Cover) -> Vec<Expr> {
    let mut out = vec![];
    let mut w = n.walk();
    for c in n.named_children(&mut w) {
        if node_kind(c) == "string_content" {
            let mut s = String::new();
            push_capped(&mut s, text(c, src));
            out.push(Expr::Str(s.into()));
        } else if node_kind(c) == "interpolation" {
            // A conversion (`!r`) or a format spec (`:{width}`) is not converted.
            if c.named_child_count() != 1 {
                cov.gap();
            }
            if let Some(e) = c
                .child_by_field_id(F.expression.get())
                .or_else(|| c.named_child(0))
            {
                out.push(conv_c(e, src, depth, cov));
            }
        }
    }
    out
}

static STRING_CONTENT: LazyLock<u16> = LazyLock::new(|| {
    Lang::Python
        .grammar()
        .id_for_node_kind("string_content", true)
});

fn string_value(n: Node, src: &[u8]) -> Option<String> {
    // Most strings are start, one run of content, end.
    if n.child_count() == 3 {
        if let Some(c) = n.child(1).filter(|c| c.kind_id() == *STRING_CONTENT) {
            let mut out = String::new();
            push_capped(&mut out, text(c, src));
            return Some(out);
        }
    }
    let mut out = String::new();
    let mut w = n.walk();
    for c in n.named_children(&mut w) {
        match node_kind(c) {
            "string_content" => push_capped(&mut out, text(c, src)),
            "interpolation" => return None,
            _ => {}
        }
    }
    Some(out)
}

/// `a.b.c`, a chain of attributes on a name, as the one name it converts to
/// (what [`conv_c`] builds one link at a time), with one string built and
/// interned. `None` for any other shape, or a chain deeper than the bound,
/// which [`conv_c`] converts link by link.
fn dotted_name(n: Node, src: &[u8], depth: u32) -> Option<Expr> {
    let mut attrs: Vec<&str> = Vec::with_capacity(4);
    let mut cur = n;
    let mut d = depth;
    loop {
        if d > MAX_DEPTH {
            return None;
        }
        match node_kind(cur) {
            "identifier" => break,
            "attribute" => {
                let o = cur.child_by_field_id(F.object.get())?;
                let a = cur.child_by_field_id(F.attribute.get())?;
                attrs.push(text(a, src));
                cur = o;
                d += 1;
            }
            _ => return None,
        }
    }
    let base = text(cur, src);
    let len = base.len() + attrs.iter().map(|a| a.len() + 1).sum::<usize>();
    let mut dotted = String::with_capacity(len);
    dotted.push_str(base);
    for a in attrs.iter().rev() {
        dotted.push('.');
        dotted.push_str(a);
    }
    Some(Expr::Name(dotted.into(), pos_of(cur, src)))
}

/// Convert an expression node into an [`Expr`]. Bounded depth: deeply nested
/// generated code degrades to `Expr::Other` instead of overflowing the stack.
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
        "identifier" => Expr::Name(text(n, src).into(), pos_of(n, src)),
        "attribute" => {
            if let Some(name) = dotted_name(n, src, depth) {
                return name;
            }
            let (Some(o), Some(a)) = (
                n.child_by_field_id(F.object.get()),
                n.child_by_field_id(F.attribute.get()),
            ) else {
                cov.gap();
                return Expr::Other;
            };
            let attr = text(a, src);
            match conv_c(o, src, d, cov) {
                Expr::Name(name, p) => {
                    let mut dotted = String::with_capacity(name.len() + 1 + attr.len());
                    dotted.push_str(&name);
                    dotted.push('.');
                    dotted.push_str(attr);
                    Expr::Name(dotted.into(), p)
                }
                other => Expr::attr(other, attr.into(), pos_of(n, src)),
            }
        }
        "call" => {
            let before = cov.gaps();
            let func = n
                .child_by_field_id(F.function.get())
                .map(|f| conv_c(f, src, d, cov))
                .unwrap_or(Expr::Other);
            let arguments = n.child_by_field_id(F.arguments.get());
            if n.named_child_count() != 2 {
                cov.gap();
            }
            let mut args = Vec::with_capacity(arguments.map_or(0, |a| a.named_child_count()));
            if let Some(al) = arguments {
                if node_kind(al) == "generator_expression" {
                    // `f(x for x in xs)`: the generator is the one argument.
                    args.push(Arg {
                        name: None,
                        value: conv_c(al, src, d, cov),
                    });
                } else if node_kind(al) != "argument_list" {
                    cov.gap();
                } else {
                    let mut w = al.walk();
                    for a in al.named_children(&mut w) {
                        match node_kind(a) {
                            "keyword_argument" => {
                                if let (Some(k), Some(v)) = (
                                    a.child_by_field_id(F.name.get()),
                                    a.child_by_field_id(F.value.get()),
                                ) {
                                    args.push(Arg {
                                        name: Some(text(k, src).into()),
                                        value: conv_c(v, src, d, cov),
                                    });
                                } else {
                                    cov.gap();
                                }
                            }
                            "comment" => {}
                            // `**options`: kept as an argument named `**`,
                            // so a dict literal behind it can supply keywords.
                            "dictionary_splat" => {
                                cov.gap();
                                if let Some(v) = a.named_child(0) {
                                    args.push(Arg {
                                        name: Some("**".into()),
                                        value: conv_c(v, src, d, cov),
                                    });
                                }
                            }
                            "list_splat" => cov.gap(),
                            _ => args.push(Arg {
                                name: None,
                                value: conv_c(a, src, d, cov),
                            }),
                        }
                    }
                }
            }
            cov.mark_call(n.id(), before);
            let p = pos_of(n, src);
            Expr::Call(Box::new(CallExpr {
                func,
                args: thin(args),
                pos: p,
                start: p,
            }))
        }
        "string" => match string_value(n, src) {
            Some(s) => Expr::Str(s.into()),
            None => Expr::Mix(thin(interpolations(n, src, d, cov))),
        },
        "concatenated_string" => {
            let mut out = String::new();
            let mut w = n.walk();
            for c in n.named_children(&mut w) {
                match string_value(c, src) {
                    Some(s) => out.push_str(&s),
                    None => {
                        cov.gap();
                        return Expr::Other;
                    }
                }
            }
            Expr::Str(out.into())
        }
        "binary_operator" => {
            let (Some(l), Some(r)) = (
                n.child_by_field_id(F.left.get()),
                n.child_by_field_id(F.right.get()),
            ) else {
                cov.gap();
                return Expr::Other;
            };
            let op = n.child_by_field_id(F.operator.get()).map(|o| text(o, src));
            match (conv_c(l, src, d, cov), conv_c(r, src, d, cov)) {
                (Expr::Str(a), Expr::Str(b)) => Expr::Str(format!("{a}{b}").into()),
                (a @ (Expr::List(_) | Expr::Name(..)), b @ (Expr::List(_) | Expr::Name(..)))
                    if op == Some("+") =>
                {
                    Expr::List(thin_vec![a, b])
                }
                (a, b) => Expr::Mix(thin_vec![a, b]),
            }
        }
        "not_operator" => match n.child_by_field_id(F.argument.get()) {
            Some(a) => Expr::Not(Box::new(conv_c(a, src, d, cov))),
            None => {
                cov.gap();
                Expr::Other
            }
        },
        "boolean_operator" => {
            let (Some(l), Some(r)) = (
                n.child_by_field_id(F.left.get()),
                n.child_by_field_id(F.right.get()),
            ) else {
                cov.gap();
                return Expr::Other;
            };
            let and = n
                .child_by_field_id(F.operator.get())
                .is_some_and(|o| text(o, src) == "and");
            let mut parts = vec![];
            for side in [l, r] {
                // `a and b and c` nests to the left: flatten runs of one operator.
                match conv_c(side, src, d, cov) {
                    Expr::Logic(a, xs) if a == and => parts.extend(xs),
                    x => parts.push(x),
                }
            }
            Expr::Logic(and, thin(parts))
        }
        "comparison_operator" => {
            // `x is None`, `x == None`: true when `x` is absent; `x is not
            // None`: when present. Other comparisons keep their operands.
            let mut w = n.walk();
            let operands: Vec<Node> = n.named_children(&mut w).collect();
            let mut w = n.walk();
            let ops: Vec<&str> = n
                .children(&mut w)
                .filter(|c| !c.is_named())
                .map(|c| text(c, src))
                .collect();
            if operands.len() == 2 && ops.len() == 1 {
                // `x is None` / `x is False` hold when `x` is falsy; `x is True`
                // / `x is not None` when it is truthy.
                let falsy = |x: Node| matches!(node_kind(x), "none" | "false");
                let truthy = |x: Node| node_kind(x) == "true";
                let (other, negate) = if falsy(operands[1]) || truthy(operands[1]) {
                    (Some(operands[0]), falsy(operands[1]))
                } else if falsy(operands[0]) || truthy(operands[0]) {
                    (Some(operands[1]), falsy(operands[0]))
                } else {
                    (None, false)
                };
                if let Some(o) = other {
                    let v = conv_c(o, src, d, cov);
                    let equal = matches!(ops[0], "is" | "==");
                    return if equal == negate {
                        Expr::Not(Box::new(v))
                    } else {
                        v
                    };
                }
            }
            // The operator is kept as leading `Other` markers, for tests that
            // confine a value (taint): none for `in`/`==`/`is`, one for
            // `not in`/`!=`/`is not`, two for orderings.
            let markers = match ops.as_slice() {
                ["in"] | ["=="] | ["is"] => 0,
                ["not", "in"] | ["not in"] | ["!="] | ["is", "not"] | ["is not"] => 1,
                _ => 2,
            };
            Expr::Mix(
                std::iter::repeat_n(Expr::Other, markers)
                    .chain(operands.into_iter().map(|o| conv_c(o, src, d, cov)))
                    .collect(),
            )
        }
        "dictionary" => {
            let mut w = n.walk();
            let mut pairs = vec![];
            for c in n.named_children(&mut w) {
                match node_kind(c) {
                    "pair" => match (
                        c.child_by_field_id(F.key.get()),
                        c.child_by_field_id(F.value.get()),
                    ) {
                        (Some(k), Some(v)) => {
                            pairs.push((conv_c(k, src, d, cov), conv_c(v, src, d, cov)))
                        }
                        _ => cov.gap(),
                    },
                    "comment" => {}
                    // `{**base, ...}`, comprehensions
                    _ => cov.gap(),
                }
            }
            Expr::Dict(thin(pairs))
        }
        // `[*router.urls, path(...)]`: the spread value stands in the list.
        "list_splat" => n
            .named_child(0)
            .map(|c| conv_c(c, src, d, cov))
            .unwrap_or(Expr::Other),
        "integer" | "float" => Expr::Num(text(n, src).into()),
        "true" => Expr::Bool(true),
        "false" => Expr::Bool(false),
        "none" => Expr::NoneLit,
        // `[f(x) for x in xs if g(x)]`: its element expression, each loop
        // variable in it standing for an element of its iterable
        // (`f(Element(xs))`); conditions decide which, not what.
        "list_comprehension"
        | "set_comprehension"
        | "generator_expression"
        | "dictionary_comprehension" => {
            let mut w = n.walk();
            let mut vars: Vec<(String, Expr)> = vec![];
            let mut body = vec![];
            for c in n.named_children(&mut w) {
                match node_kind(c) {
                    "for_in_clause" => {
                        let (Some(l), Some(r)) = (
                            c.child_by_field_id(F.left.get()),
                            c.child_by_field_id(F.right.get()),
                        ) else {
                            cov.gap();
                            continue;
                        };
                        let iter = Expr::Element(Box::new(conv_c(r, src, d, cov)));
                        let iter = substitute(iter, &vars, 0);
                        let mut lw = l.walk();
                        let names: Vec<Node> = if node_kind(l) == "identifier" {
                            vec![l]
                        } else {
                            l.named_children(&mut lw)
                                .filter(|x| node_kind(*x) == "identifier")
                                .collect()
                        };
                        for x in names {
                            vars.push((text(x, src).to_string(), iter.clone()));
                        }
                    }
                    // Conditions: their calls are still converted (covered).
                    "if_clause" => {
                        if let Some(x) = c.named_child(0) {
                            let _ = conv_c(x, src, d, cov);
                        }
                    }
                    "pair" => {
                        for f in [F.key.get(), F.value.get()] {
                            match c.child_by_field_id(f) {
                                Some(x) => body.push(conv_c(x, src, d, cov)),
                                None => cov.gap(),
                            }
                        }
                    }
                    "comment" => {}
                    _ => body.push(conv_c(c, src, d, cov)),
                }
            }
            // Its loop variables are bindings the walk records (assignments
            // queries): the walk must still visit this subtree.
            cov.gap();
            Expr::List(thin(
                body.into_iter().map(|b| substitute(b, &vars, 0)).collect(),
            ))
        }
        "list" | "tuple" | "set" | "expression_list" | "pattern_list" => {
            let mut w = n.walk();
            Expr::List(thin(
                n.named_children(&mut w)
                    .filter(|c| node_kind(*c) != "comment")
                    .map(|c| conv_c(c, src, d, cov))
                    .collect(),
            ))
        }
        "parenthesized_expression" | "await" | "type" | "as_pattern" => {
            if n.named_child_count() != 1 {
                cov.gap();
            }
            n.named_child(0)
                .map(|c| conv_c(c, src, d, cov))
                .unwrap_or(Expr::Other)
        }
        "subscript" => {
            let value = n
                .child_by_field_id(F.value.get())
                .map(|v| conv_c(v, src, d, cov))
                .unwrap_or(Expr::Other);
            let mut w = n.walk();
            let subs: Vec<Expr> = n
                .children_by_field_id(F.subscript, &mut w)
                .map(|c| {
                    // `environ["KEY"]` is matched by a query of its own.
                    if node_kind(c) == "string" {
                        cov.gap();
                    }
                    conv_c(c, src, d, cov)
                })
                .collect();
            Expr::subscript(value, subs.into())
        }
        "generic_type" => {
            let mut w = n.walk();
            let mut base = Expr::Other;
            let mut subs = vec![];
            for c in n.named_children(&mut w) {
                match node_kind(c) {
                    "identifier" => base = conv_c(c, src, d, cov),
                    "type_parameter" => {
                        let mut w2 = c.walk();
                        subs.extend(c.named_children(&mut w2).map(|t| conv_c(t, src, d, cov)));
                    }
                    _ => cov.gap(),
                }
            }
            Expr::subscript(base, subs.into())
        }
        "lambda" => {
            // Parameter defaults are not converted.
            if n.child_by_field_id(F.parameters.get()).is_some() {
                cov.gap();
            }
            Expr::Closure(Box::new(
                n.child_by_field_id(F.body.get())
                    .map(|b| conv_c(b, src, d, cov))
                    .unwrap_or(Expr::Other),
            ))
        }
        _ => {
            if n.child_count() > 0 {
                cov.gap();
            }
            Expr::Other
        }
    }
}

/// `e` with each comprehension variable of `vars` replaced by what it
/// stands for (`x` → `Element(xs)`, `x.name` → `Element(xs).name`).
fn substitute(e: Expr, vars: &[(String, Expr)], depth: u32) -> Expr {
    if vars.is_empty() || depth > MAX_DEPTH {
        return e;
    }
    let sub = |x: Expr| substitute(x, vars, depth + 1);
    match e {
        Expr::Name(n, p) => {
            let mut parts = n.split('.');
            let first = parts.next().unwrap_or("");
            match vars.iter().rev().find(|(v, _)| v == first) {
                Some((_, value)) => parts.fold(value.clone(), |b, m| Expr::attr(b, m.into(), p)),
                None => Expr::Name(n, p),
            }
        }
        Expr::Attr(mut a) => {
            a.base = sub(std::mem::replace(&mut a.base, Expr::Other));
            Expr::Attr(a)
        }
        Expr::Call(mut c) => {
            c.func = sub(std::mem::replace(&mut c.func, Expr::Other));
            for a in &mut c.args {
                a.value = sub(std::mem::replace(&mut a.value, Expr::Other));
            }
            Expr::Call(c)
        }
        Expr::List(xs) => Expr::List(xs.into_iter().map(sub).collect()),
        Expr::Mix(xs) => Expr::Mix(xs.into_iter().map(sub).collect()),
        Expr::Logic(a, xs) => Expr::Logic(a, xs.into_iter().map(sub).collect()),
        Expr::Subscript(mut s) => {
            s.base = sub(std::mem::replace(&mut s.base, Expr::Other));
            s.keys = std::mem::take(&mut s.keys).into_iter().map(sub).collect();
            Expr::Subscript(s)
        }
        Expr::Dict(kv) => Expr::Dict(kv.into_iter().map(|(k, v)| (sub(k), sub(v))).collect()),
        Expr::Not(x) => Expr::Not(Box::new(sub(*x))),
        Expr::Element(x) => Expr::Element(Box::new(sub(*x))),
        Expr::Closure(x) => Expr::Closure(Box::new(sub(*x))),
        other => other,
    }
}
