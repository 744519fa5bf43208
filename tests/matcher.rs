//! The extraction matcher (src/extract/matcher.rs) must return exactly the
//! matches tree-sitter's own QueryCursor returns for the same `.scm` files.

use std::collections::BTreeMap;
use std::path::Path;
use streaming_iterator::StreamingIterator;
use threatscan::extract::matcher::Matcher;
use threatscan::lang::Lang;
use tree_sitter::{Parser, QueryCursor};

/// (pattern, sorted [(capture, start, end, kind)]) -> how many times.
type Matches = BTreeMap<(usize, Vec<(u32, usize, usize, u16)>), usize>;

fn both(lang: Lang, src: &str) -> (Matches, Matches) {
    let mut parser = Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    let tree = parser.parse(src, None).unwrap();
    let mut reference = Matches::new();
    let mut cursor = QueryCursor::new();
    let mut it = cursor.matches(lang.query(), tree.root_node(), src.as_bytes());
    while let Some(m) = it.next() {
        let mut caps: Vec<_> = m
            .captures()
            .iter()
            .map(|c| {
                (
                    c.index,
                    c.node.start_byte(),
                    c.node.end_byte(),
                    c.node.kind_id(),
                )
            })
            .collect();
        caps.sort();
        *reference.entry((m.pattern_index, caps)).or_default() += 1;
    }
    let mut ours = Matches::new();
    lang.matcher()
        .for_each_match(tree.root_node(), |p, captures| {
            let mut caps: Vec<_> = captures
                .iter()
                .map(|(i, n)| (*i, n.start_byte(), n.end_byte(), n.kind_id()))
                .collect();
            caps.sort();
            *ours.entry((p, caps)).or_default() += 1;
        });
    (reference, ours)
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if Lang::from_path(&p).is_some() {
            out.push(p);
        }
    }
}

#[test]
fn matcher_agrees_with_tree_sitter_on_every_fixture_file() {
    let mut paths = vec![];
    files(Path::new("tests/fixtures"), &mut paths);
    assert!(paths.len() > 50, "fixtures found: {}", paths.len());
    // THREATSCAN_MATCHER_CORPUS=/some/checkout also compares on a real project.
    if let Ok(dir) = std::env::var("THREATSCAN_MATCHER_CORPUS") {
        files(Path::new(&dir), &mut paths);
    }
    paths.sort();
    let mut total = 0;
    for p in &paths {
        let Ok(src) = std::fs::read_to_string(p) else {
            continue; // not UTF-8: the scanner skips it too
        };
        let lang = Lang::from_path(p).unwrap();
        let (reference, ours) = both(lang, &src);
        assert_eq!(ours, reference, "{}", p.display());
        total += reference.values().sum::<usize>();
    }
    assert!(total > 1000, "matches compared: {total}");
}

#[test]
fn matcher_agrees_on_broken_and_unusual_code() {
    let python = [
        // Syntax errors: facts still come from the valid parts.
        "def f(:\n    x = yaml.load(open(p))\nclass C(\n    y = 1\n",
        "x = = 2\nwith open(p) as fh, open(q) as (a, b):\n    pass\n",
        // Chained and nested assignments, augmented, walrus, subscripts.
        "a = b = c()\na += f(x)\nif (n := g()): pass\nos.environ['K'][0]\nd[f'x{y}']\n",
        "with A() as a, B() as b.c, C() as d[0]:\n    e = lambda: f(a)\n",
        "from . import (a as b, c)\nimport x.y as z, w\nreturn\n",
        "",
    ];
    for src in python {
        let (reference, ours) = both(Lang::Python, src);
        assert_eq!(ours, reference, "{src:?}");
    }
    let rust = [
        "fn f( { let x = Command::new(\"sh\"); }\nconst C: &str = env!(\"X\");\n",
        "impl<S> FromRequestParts<S> for U { fn g() { let (a, b) = h(); return i(); } }\n",
        "mod m { use a::{b as c, d::*}; static S: u8 = 1; macro_rules! q { () => {} } }\n",
    ];
    for src in rust {
        let (reference, ours) = both(Lang::Rust, src);
        assert_eq!(ours, reference, "{src:?}");
    }
}

#[test]
fn matcher_enumerates_every_combination_like_tree_sitter() {
    // `(_)` children may match several siblings: every combination is a match.
    let lang = Lang::Python;
    let grammar = lang.grammar();
    let q = "(argument_list (_) @a (_) @b) @args";
    let m = Matcher::new(&grammar, q).unwrap();
    let src = "f(x, y, z)\n";
    let mut parser = Parser::new();
    parser.set_language(&grammar).unwrap();
    let tree = parser.parse(src, None).unwrap();
    let mut got = vec![];
    m.for_each_match(tree.root_node(), |_, caps| {
        got.push(
            caps.iter()
                .map(|(_, n)| n.utf8_text(src.as_bytes()).unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )
    });
    got.sort();
    assert_eq!(got, ["(x, y, z) x y", "(x, y, z) x z", "(x, y, z) y z"]);
    let tq = tree_sitter::Query::new(&grammar, q).unwrap();
    let mut cursor = QueryCursor::new();
    let mut it = cursor.matches(&tq, tree.root_node(), src.as_bytes());
    let mut n = 0;
    while it.next().is_some() {
        n += 1;
    }
    assert_eq!(n, 3, "tree-sitter agrees");
}

#[test]
fn matcher_refuses_query_syntax_it_does_not_implement() {
    let grammar = Lang::Python.grammar();
    for (q, why) in [
        ("((call) @c (#eq? @c \"x\"))", "expected a node kind"),
        ("(call)* @c", "unsupported"),
        ("[(call) (string)] @x", "expected `(`"),
        ("(call . (identifier))", "unsupported"),
        ("(call !arguments)", "unsupported"),
        ("(call \"(\")", "unsupported"),
        ("(no_such_kind)", "unknown node kind `no_such_kind`"),
        ("(call nope: (_))", "unknown field `nope`"),
        ("(expression)", "supertype"),
        ("(call) @", "capture name"),
        ("(call", "unclosed `(`"),
    ] {
        let err = Matcher::new(&grammar, q).unwrap_err();
        assert!(err.contains(why), "{q}: {err}");
    }
}

/// Extraction skips the subtrees of calls it converted completely
/// (src/extract/mod.rs, `Cover`): the facts must be exactly those of a walk
/// over every node.
fn pruned_and_full_agree(lang: Lang, src: &str, what: &str) -> usize {
    let mut parser = Parser::new();
    parser.set_language(&lang.grammar()).unwrap();
    let tree = parser.parse(src, None).unwrap();
    let extract = match lang {
        Lang::Python => threatscan::extract::python::extract_with,
        Lang::Rust => threatscan::extract::rust::extract_with,
    };
    let pruned = extract(&tree, src.as_bytes(), "x".into(), true);
    let full = extract(&tree, src.as_bytes(), "x".into(), false);
    assert_eq!(format!("{pruned:?}"), format!("{full:?}"), "{what}");
    full.each_call().count() + full.subscripts.len()
}

#[test]
fn pruned_walk_extracts_the_same_facts() {
    // What a converter leaves out must stop the pruning: calls under each
    // kind of gap, and `environ["KEY"]` subscripts (a query of their own).
    let cases = [
        "f(g(h()))\nx = a(b(c=d()))\n",
        "f(os.environ['SECRET'], d[k()])\nx = g(h()['k'])\n",
        "f(x for x in g())\nf(*g(), **h())\nf([y() for y in z()])\nf({'k': g()})\n",
        "f(f'{g()!r:>{w()}}', f'{h()}')\nf('a' f'{g()}')\nf(lambda x=g(): h(x))\n",
        "f(a if g() else b, not h(), -k(), (yield_() ,), [*m()], {n(): 1})\n",
        "x = f(g())\ny: T = h(i())\nz += j(k())\na, b = l(m())\nwith n(o()) as p: pass\n",
        "@app.get('/x', dependencies=[Depends(auth())])\nasync def r(u=Depends(cur())):\n    return q(s())\n",
        "f(  # comment\n  g(),\n)\nf(a)(b())\nf().g(h())\nf(x)[y()](z())\n",
        // Only f-strings interpolate: other strings are skipped whole.
        "x = Rf'{a()}' + b'{b()}' + u'{c()}' + F\"{d(e['k'])}\" + \"\"\"{f()}\"\"\"\n",
    ];
    // Deeper than the converter goes: the inner calls are left to the walk.
    let deep = format!("{}x(){}\n", "f(".repeat(60), ")".repeat(60));
    let mut found = 0;
    for src in cases.iter().copied().chain([deep.as_str()]) {
        found += pruned_and_full_agree(Lang::Python, src, src);
    }
    assert!(found > 60, "calls and subscripts compared: {found}");
    let rust = [
        "fn f() { a(b(c())); let x = d(e(1, \"s\", &mut y, &z)); }\n",
        "fn f() { a(|x| { let y = b(); c(y) }); a(|| d(e())); a(vec![f()]); }\n",
        "fn f() { a(b::<T>(c())); a(Vec::<u8>::new()); a(S { x: g() }); a(x?.h().await); }\n",
        "fn f() { a(if g() { 1 } else { 2 }, match h() { _ => i() }, [j(); 3], (k(), 1)); }\n",
        "fn f() { a(|| { fn inner() { b() } struct S; c() }); a(|| return d()); }\n",
        "fn f() { a(#[cfg(x)] b(), c.d.e(f).g(h)); Router::new().route(\"/\", get(i)).layer(j()); }\n",
        "const C: T = a(b()); static S: T = c(|| d()); fn f() -> T { e(f()) }\n",
        "fn f() { println!(\"{}\", g(h())); a(format!(\"{}\", b())); }\n",
    ];
    let deep_rs = format!("fn f() {{ {}x(){} }}\n", "f(".repeat(60), ")".repeat(60));
    let mut found_rs = 0;
    for src in rust.iter().copied().chain([deep_rs.as_str()]) {
        found_rs += pruned_and_full_agree(Lang::Rust, src, src);
    }
    assert!(found_rs > 40, "Rust calls compared: {found_rs}");
    let mut paths = vec![];
    files(Path::new("tests/fixtures"), &mut paths);
    if let Ok(dir) = std::env::var("THREATSCAN_MATCHER_CORPUS") {
        files(Path::new(&dir), &mut paths);
    }
    let mut compared = 0;
    for p in &paths {
        if let Ok(src) = std::fs::read_to_string(p) {
            let lang = Lang::from_path(p).unwrap();
            compared += pruned_and_full_agree(lang, &src, &p.display().to_string());
        }
    }
    assert!(compared > 500, "calls and subscripts compared: {compared}");
}

/// Rule queries run only at the node kinds their patterns start with, and
/// not at all on files without the literals they compare with: the hits
/// must be exactly those of tree-sitter's QueryCursor over the whole tree.
#[test]
fn rooted_rule_queries_agree_with_a_whole_tree_pass() {
    use threatscan::extract::{query_hits, RuleQuery};
    let debug = std::fs::read_to_string("rules/scan/queries/debug-setting.scm").unwrap();
    let py: Vec<&str> = vec![
        &debug,
        r#"(call function: (identifier) @f (#eq? @f "eval")) @match"#,
        r#"[(call) (attribute)] @match"#,
        r#"((identifier) @x (#any-of? @x "os" "subprocess" "request"))"#,
        r#""lambda" @match"#,
        r#"(string) @s"#,
        r#"(call function: (attribute attribute: (identifier) @a) (#eq? @a "get")) @match"#,
        r#"((comment) @c (#match? @c "^#"))"#,
        r#"(_ (identifier) @i (#eq? @i "self"))"#,
    ];
    let rs: Vec<&str> = vec![
        r#"(macro_invocation macro: (identifier) @m (#eq? @m "println")) @match"#,
        r#"(function_item name: (identifier) @n) @match"#,
        r#"[(call_expression) (macro_invocation)] @match"#,
        r#"((field_identifier) @x (#eq? @x "unwrap"))"#,
    ];
    let build = |lang: Lang, texts: &[&str], planned: bool| -> Vec<RuleQuery> {
        texts
            .iter()
            .map(|t| {
                let q = tree_sitter::Query::new(&lang.grammar(), t).unwrap();
                let mut rq = RuleQuery::new("T".into(), t.to_string(), lang, q);
                if !planned {
                    rq.roots = None;
                    rq.needles = None;
                }
                rq
            })
            .collect()
    };
    let planned: Vec<RuleQuery> = build(Lang::Python, &py, true)
        .into_iter()
        .chain(build(Lang::Rust, &rs, true))
        .collect();
    let whole: Vec<RuleQuery> = build(Lang::Python, &py, false)
        .into_iter()
        .chain(build(Lang::Rust, &rs, false))
        .collect();
    assert!(planned[0].roots.is_some() && planned[0].needles.is_some());
    assert!(
        planned[8].roots.is_none(),
        "a wildcard root runs everywhere"
    );
    let mut paths = vec![];
    files(Path::new("tests/fixtures"), &mut paths);
    if let Ok(dir) = std::env::var("THREATSCAN_MATCHER_CORPUS") {
        files(Path::new(&dir), &mut paths);
    }
    paths.sort();
    let mut per_query = vec![0usize; planned.len()];
    for p in &paths {
        let Ok(src) = std::fs::read_to_string(p) else {
            continue;
        };
        let lang = Lang::from_path(p).unwrap();
        let mut parser = Parser::new();
        parser.set_language(&lang.grammar()).unwrap();
        let tree = parser.parse(&src, None).unwrap();
        let (a, pa) = query_hits(&tree, src.as_bytes(), lang, &planned);
        let (b, pb) = query_hits(&tree, src.as_bytes(), lang, &whole);
        assert_eq!(a, b, "{}", p.display());
        assert_eq!(pa, pb, "{}", p.display());
        for h in &a {
            per_query[h.query] += 1;
        }
    }
    // Every query but the Rust println one matches somewhere in the fixtures.
    for (i, n) in per_query.iter().enumerate() {
        assert!(
            *n > 0 || i == py.len(),
            "query {i} matched nothing: {per_query:?}"
        );
    }
}

/// A subscript resolves as its base (`Index::resolve_expr`), so a chain keeps
/// only its innermost base: `content["data"]["user"]["token"]` held every
/// inner level again in every outer one. (Secret reads through a chain:
/// tests/cli.rs, `secret_reads_through_a_subscript_chain_are_found`.)
#[test]
fn a_subscript_chain_keeps_its_innermost_base() {
    let src = "import os\nA = os.environ['CONF']['API_SECRET']\nB = content['data']['user']['token']\nC = (os.environ)['DB_PASSWORD']\n";
    let mut parser = Parser::new();
    parser.set_language(&Lang::Python.grammar()).unwrap();
    let tree = parser.parse(src, None).unwrap();
    let ff = threatscan::extract::python::extract(&tree, src.as_bytes(), "app.py".into());
    let got: Vec<String> = ff
        .subscripts
        .iter()
        .map(|s| format!("{}:{} {:?}", s.pos.line, s.key, s.base))
        .collect();
    assert_eq!(got.len(), 6, "{got:#?}");
    for s in &ff.subscripts {
        assert!(
            !matches!(s.base, threatscan::extract::Expr::Subscript(_)),
            "a chain kept an inner level: {got:#?}"
        );
    }
    assert!(
        got.iter()
            .any(|g| g.starts_with("3:token Name(\"content\"")),
        "{got:#?}"
    );
}
