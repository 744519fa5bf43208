//! Evaluate rules over the facts, the model and the query hits of a scan.

use super::taint::Taint;
use super::{Finding, On, Related, RuleSet, When};
use crate::catalog::{any_match, Catalog};
use crate::facts::Fact;
use crate::lang::Lang;
use crate::link::Index;
use crate::model::{entry_label, EntryPoint, ModelOptions};
use crate::Scan;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;

/// Run every rule over a scanned repository: findings sorted by location,
/// with inline suppressions applied and fingerprints computed.
pub fn run(scan: &Scan, rules: &RuleSet, opts: &ModelOptions) -> Vec<Finding> {
    run_memoised(scan, rules, opts).0
}

/// What the result memo keeps of a `scan`: the findings, their snippets
/// (not part of their JSON), and every file read for snippets and
/// fingerprints with a hash of its text (re-checked before a memo is used:
/// workflows and manifests are read here, and are not parsed source files
/// whose entry keys the memo's digest covers).
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    findings: Vec<Finding>,
    snippets: Vec<(String, u32)>,
    reads: Vec<(String, u64)>,
}

/// [`run`], and whether the findings were read back from the result memo
/// (see [`crate::cache::Memo`]): same inputs, same rules and options, and
/// every file read for snippets unchanged.
pub fn run_memoised(scan: &Scan, rules: &RuleSet, opts: &ModelOptions) -> (Vec<Finding>, bool) {
    let extra = || {
        let mut e = serde_json::to_vec(&rules.rules).unwrap_or_default();
        e.extend_from_slice(format!("{:?}", rules.query_rules).as_bytes());
        e.extend_from_slice(&opts.max_depth.to_le_bytes());
        e
    };
    let memo = scan.memo.as_ref().map(|m| (m, extra()));
    if let Some((m, extra)) = &memo {
        if let Some(st) = m.get::<Stored>("scan", extra) {
            let unchanged = st.snippets.len() == st.findings.len()
                && st.reads.iter().all(|(path, h)| read_hash(scan, path) == *h);
            if unchanged {
                let mut findings = st.findings;
                for (f, (snippet, from)) in findings.iter_mut().zip(st.snippets) {
                    f.snippet = snippet;
                    f.snippet_from = from;
                }
                return (findings, true);
            }
        }
    }
    let (findings, reads) = compute(scan, rules, opts);
    if let Some((m, extra)) = &memo {
        let st = Stored {
            snippets: findings
                .iter()
                .map(|f| (f.snippet.clone(), f.snippet_from))
                .collect(),
            findings,
            reads,
        };
        m.put("scan", extra, &st);
        return (st.findings, false);
    }
    (findings, false)
}

/// A file's text as the findings' snippets read it (empty when it cannot
/// be read), and its hash.
fn read_text(scan: &Scan, path: &str) -> String {
    crate::fsread::read(
        &crate::walk::abs_path(&scan.root, path),
        scan.max_file_size,
        Some(&scan.root),
    )
    .map(|b| String::from_utf8_lossy(&b).into_owned())
    .unwrap_or_default()
}

fn read_hash(scan: &Scan, path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(read_text(scan, path).as_bytes())
}

fn compute(
    scan: &Scan,
    rules: &RuleSet,
    opts: &ModelOptions,
) -> (Vec<Finding>, Vec<(String, u64)>) {
    let idx = Index::build(scan);
    let built = crate::model::build_linked(scan, &idx, opts);
    let model = &built.model;
    // The model's call graph, with the edges it has already computed.
    let graph = &built.graph;
    let cat = Catalog::builtin();
    let summaries = crate::summary::Summaries::new(&idx, cat);
    // The sink kinds each entry point reaches.
    let mut reaches: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
    for it in &model.interactions {
        if let Some(sink) = &it.sink {
            reaches
                .entry(it.entry.as_str())
                .or_default()
                .insert(sink.kind.as_str());
        }
    }
    let entry_of: FxHashMap<&str, &EntryPoint> = model
        .entry_points
        .iter()
        .map(|e| (e.id.as_str(), e))
        .collect();
    // Evidence facts by the function that contains them.
    let mut evidence_in: FxHashMap<&str, Vec<&Fact>> = FxHashMap::default();
    for f in &built.extra {
        if let Some(func) = &f.function {
            evidence_in.entry(func.as_str()).or_default().push(f);
        }
    }

    let mut out: Vec<Finding> = vec![];
    for (ri, rule) in rules.rules.iter().enumerate() {
        for w in &rule.when {
            let excluded = exclusion(w);
            let mut found: Vec<Finding> = vec![];
            let mut push = |vars: BTreeMap<&'static str, String>,
                            file: &str,
                            line: u32,
                            column: u32,
                            function: Option<String>,
                            related: Vec<Related>,
                            entry: Option<&EntryPoint>,
                            flow: Option<FlowFacts>| {
                let mut level = w.level.unwrap_or(rule.level);
                let mut message = fill(&rules.rules[ri].message, &vars);
                if let Some(why) = &w.reason {
                    message = format!("{} ({why})", message.trim_end_matches('.'));
                }
                let adjust = match entry {
                    Some(e) => adjusted(rule, e, reaches.get(e.id.as_str()), flow),
                    None => conditioned(rule, &idx, file, line, column),
                };
                if let Some((l, why)) = adjust {
                    level = l;
                    message = format!("{} ({why})", message.trim_end_matches('.'));
                }
                found.push(Finding {
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    level,
                    message,
                    file: file.to_string(),
                    line,
                    column,
                    end_line: 0,
                    end_column: 0,
                    function,
                    related,
                    fingerprint: String::new(),
                    suppressed: None,
                    baseline: None,
                    snippet: String::new(),
                    snippet_from: 0,
                });
            };
            match w.on {
                On::Fact => {
                    for f in built.facts.iter().filter(|f| fact_matches(w, f)) {
                        if w.from_llm || w.ungated {
                            let Some(fi) = idx.file_index(&f.file) else {
                                continue;
                            };
                            let taint = Taint::new(&idx, cat.lang(idx.files[fi].lang), true);
                            let pos = crate::extract::Pos {
                                line: f.line,
                                column: f.column,
                            };
                            let api = f.api.as_deref().unwrap_or("");
                            if w.from_llm
                                && !taint.llm_reaches_arg(
                                    fi,
                                    pos,
                                    api,
                                    super::taint::ArgSpec {
                                        position: w.argument.unwrap_or(0),
                                        keywords: &w.argument_keywords,
                                        built: false,
                                        receiver: false,
                                    },
                                )
                            {
                                continue;
                            }
                            let scope = taint.call_at(fi, pos, api).and_then(|(_, s)| s);
                            if w.ungated
                                && taint
                                    .asks_approval(&[(fi, scope)], (fi, scope, pos))
                                    .is_some()
                            {
                                continue;
                            }
                        }
                        let mut v = BTreeMap::new();
                        v.insert("api", f.api.clone().unwrap_or_default());
                        v.insert("name", f.name.clone().unwrap_or_default());
                        v.insert("reason", f.reason.clone().unwrap_or_default());
                        v.insert("function", f.function.clone().unwrap_or_default());
                        v.insert("flags", flags_text(f));
                        v.insert(
                            "match",
                            format!("{} {}", f.api.as_deref().unwrap_or(""), flags_text(f)),
                        );
                        push(
                            v,
                            &f.file,
                            f.line,
                            f.column,
                            f.function.clone(),
                            vec![],
                            None,
                            None,
                        );
                    }
                }
                On::Entry => {
                    for e in model.entry_points.iter().filter(|e| entry_matches(w, e)) {
                        if let Some(want) = w.handles_credential {
                            let s = graph
                                .node_of(&e.handler)
                                .and_then(|(f, d)| Some(summaries.of(f, d?)));
                            let handles = s.as_ref().is_some_and(|s| {
                                (s.credential.is_some() && !s.credential_weak) || s.issues.is_some()
                            }) || credential_view(&idx, graph, cat, e);
                            if handles != want {
                                continue;
                            }
                            // A limiter applied inside the handler (a 429
                            // answer, a catalogued limiter call) is one too.
                            if w.rate_limit == Some(false) && s.is_some_and(|s| s.limits()) {
                                continue;
                            }
                        }
                        let mut v = entry_vars(e);
                        v.insert("function", e.handler.clone());
                        push(
                            v,
                            &e.file,
                            e.line,
                            e.column,
                            Some(e.handler.clone()),
                            vec![],
                            Some(e),
                            None,
                        );
                    }
                }
                On::Flow => {
                    for it in &model.interactions {
                        let (Some(sink), Some(e)) = (&it.sink, entry_of.get(it.entry.as_str()))
                        else {
                            continue;
                        };
                        if !w.entry_kinds.is_empty() && !w.entry_kinds.contains(&e.kind) {
                            continue;
                        }
                        if !w.sink_kinds.is_empty() && !w.sink_kinds.contains(&sink.kind) {
                            continue;
                        }
                        if !w.api.is_empty() && any_match(&w.api, &sink.api).is_none() {
                            continue;
                        }
                        if !safe_matches(w.safe, sink.safe) {
                            continue;
                        }
                        let chain_syms: FxHashSet<&str> =
                            it.chain.iter().map(|s| s.symbol.as_str()).collect();
                        if !w.without_evidence.is_empty()
                            && chain_syms.iter().any(|s| {
                                evidence_in
                                    .get(s)
                                    .into_iter()
                                    .flatten()
                                    .any(|f| w.without_evidence.iter().any(|k| k == f.kind))
                            })
                        {
                            continue;
                        }
                        let mut one_segment = false;
                        if w.from_request {
                            let nodes: Option<Vec<_>> =
                                it.chain.iter().map(|s| graph.node_of(&s.symbol)).collect();
                            let Some(nodes) = nodes else { continue };
                            let Some(sf) = idx.file_index(&sink.file) else {
                                continue;
                            };
                            let lang = idx.files[sf].lang;
                            let mut taint = Taint::new(&idx, cat.lang(lang), false);
                            let pos = crate::extract::Pos {
                                line: sink.line,
                                column: sink.column,
                            };
                            // Sinks with a second path (`shutil.copy(src, dst)`:
                            // the catalogue's `also_arguments`) count it too.
                            let also: Vec<usize> = cat
                                .lang(lang)
                                .sink_for(&sink.api)
                                .map(|s| s.also_arguments.clone())
                                .unwrap_or_default();
                            let reach = |taint: &Taint| match w.argument {
                                Some(at) => std::iter::once(at)
                                    .chain(also.iter().copied())
                                    .enumerate()
                                    .any(|(i, position)| {
                                        taint.reaches_arg(
                                            &nodes,
                                            sf,
                                            pos,
                                            &sink.api,
                                            super::taint::ArgSpec {
                                                position,
                                                keywords: if i == 0 {
                                                    &w.argument_keywords
                                                } else {
                                                    &[]
                                                },
                                                built: w.built,
                                                receiver: i == 0 && w.argument_receiver,
                                            },
                                        )
                                    }),
                                None => taint.reaches(&nodes, sf, pos, &sink.api),
                            };
                            if !reach(&taint) {
                                continue;
                            }
                            if w.ungated {
                                let scopes: Vec<(usize, Option<usize>)> =
                                    nodes.iter().map(|&(f, d)| (f, d)).collect();
                                let at = taint.call_at(sf, pos, &sink.api).and_then(|(_, s)| s);
                                if taint.asks_approval(&scopes, (sf, at, pos)).is_some() {
                                    continue;
                                }
                            }
                            // Is one single-segment route parameter all
                            // the request data that reaches it?
                            // (A route's `via` is its framework.)
                            let segments = crate::frameworks::path_params(&scan.frameworks, &e.via)
                                .zip(e.pattern.as_deref())
                                .map(|(r, p)| crate::frameworks::one_segment_params(r, p))
                                .unwrap_or_default();
                            if !segments.is_empty() {
                                taint.skip = segments.iter().cloned().collect();
                                if !reach(&taint) {
                                    let reaching = segments
                                        .iter()
                                        .filter(|s| {
                                            taint.skip = segments
                                                .iter()
                                                .filter(|x| x != s)
                                                .cloned()
                                                .collect();
                                            reach(&taint)
                                        })
                                        .count();
                                    one_segment = reaching <= 1;
                                }
                            }
                        }
                        let mut v = entry_vars(e);
                        v.insert("api", sink.api.clone());
                        v.insert("name", sink.name.clone().unwrap_or_default());
                        v.insert("reason", sink.reason.clone().unwrap_or_default());
                        v.insert(
                            "chain",
                            it.chain
                                .iter()
                                .map(|s| s.symbol.as_str())
                                .chain([sink.api.as_str()])
                                .collect::<Vec<_>>()
                                .join(" → "),
                        );
                        v.insert("chain_len", it.chain.len().to_string());
                        let mut related = vec![Related {
                            file: e.file.clone(),
                            line: e.line,
                            column: e.column,
                            message: format!("entry point {}", entry_label(e)),
                        }];
                        for (i, s) in it.chain.iter().enumerate() {
                            related.push(Related {
                                file: s.file.clone(),
                                line: s.line,
                                column: 1,
                                message: format!("step {}: {}", i + 1, s.symbol),
                            });
                        }
                        let function = it.chain.last().map(|s| s.symbol.clone());
                        v.insert("function", function.clone().unwrap_or_default());
                        push(
                            v,
                            &sink.file,
                            sink.line,
                            sink.column,
                            function,
                            related,
                            Some(e),
                            Some(FlowFacts {
                                one_segment,
                                op: sink.op.as_deref(),
                            }),
                        );
                    }
                }
                On::Query => {}
            }
            out.extend(
                found
                    .into_iter()
                    .filter(|f| !excluded.as_ref().is_some_and(|ex| ex.is_match(&f.file))),
            );
        }
    }
    // Query hits, recorded during extraction.
    for f in scan.files() {
        for h in &f.query_hits {
            let Some(q) = rules.query_rules.get(h.query) else {
                continue;
            };
            let rule = &rules.rules[q.rule];
            let excluded = rule
                .when
                .iter()
                .filter(|w| w.on == On::Query)
                .filter_map(exclusion)
                .any(|g| g.is_match(&f.path));
            if excluded {
                continue;
            }
            let mut v = BTreeMap::new();
            v.insert("match", h.text.trim().to_string());
            let mut level = rule.level;
            let mut message = fill(&rule.message, &v);
            if let Some((l, why)) = conditioned(rule, &idx, &f.path, h.start.line, h.start.column) {
                level = l;
                message = format!("{} ({why})", message.trim_end_matches('.'));
            }
            out.push(Finding {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                level,
                message,
                file: f.path.clone(),
                line: h.start.line,
                column: h.start.column,
                end_line: h.end.line,
                end_column: h.end.column,
                function: None,
                related: vec![],
                fingerprint: String::new(),
                suppressed: None,
                baseline: None,
                snippet: String::new(),
                snippet_from: 0,
            });
        }
    }
    finish(scan, &idx, out)
}

/// Sort, merge repeats at one location, apply suppressions, read snippets,
/// compute regions and fingerprints.
fn finish(scan: &Scan, idx: &Index, mut out: Vec<Finding>) -> (Vec<Finding>, Vec<(String, u64)>) {
    out.sort_by(|a, b| {
        (
            &a.file,
            a.line,
            a.column,
            &a.rule_id,
            std::cmp::Reverse(a.level),
            &a.message,
        )
            .cmp(&(
                &b.file,
                b.line,
                b.column,
                &b.rule_id,
                std::cmp::Reverse(b.level),
                &b.message,
            ))
    });
    // One finding per rule and location: flows from several entry points to
    // one sink, or two conditions of a rule matching one fact. The highest
    // level is kept.
    let mut merged: Vec<Finding> = vec![];
    let mut extra_entries = 0usize;
    for f in out {
        if let Some(last) = merged.last_mut() {
            if (&last.file, last.line, last.column, &last.rule_id)
                == (&f.file, f.line, f.column, &f.rule_id)
            {
                // Another entry point's flow to the same sink (a weaker
                // condition's match at a lower level is not one).
                if f.message != last.message && f.level == last.level {
                    extra_entries += 1;
                }
                continue;
            }
            note_more(last, &mut extra_entries);
        }
        merged.push(f);
    }
    if let Some(last) = merged.last_mut() {
        note_more(last, &mut extra_entries);
    }

    // Each file read once (through the checked reader, capped like the
    // scan), split into lines once; per line, its normalised text and, per
    // rule and function, its fingerprint hash are computed once, so many
    // findings on one long line cost no more than one.
    let mut sources: FxHashMap<String, (String, Vec<(usize, usize)>)> = FxHashMap::default();
    let mut line_hash: FxHashMap<(String, u32, String, Option<String>), u64> = FxHashMap::default();
    // Per line with findings: its length in characters and, when long, the
    // byte offset of every character.
    let mut line_chars: FxHashMap<(String, u32), (usize, Vec<u32>)> = FxHashMap::default();
    let mut seen_hash: FxHashMap<u64, u32> = FxHashMap::default();
    for f in &mut merged {
        if !f.message.ends_with('.') {
            f.message.push('.');
        }
        let (src, lines) = sources.entry(f.file.clone()).or_insert_with(|| {
            let text = read_text(scan, &f.file);
            let lines = line_spans(&text);
            (text, lines)
        });
        let text: &str = lines
            .get(f.line.saturating_sub(1) as usize)
            .map(|&(a, b)| &src[a..b])
            .unwrap_or("");
        let (n_chars, offsets) = line_chars
            .entry((f.file.clone(), f.line))
            .or_insert_with(|| {
                let t = text.trim_end();
                let offsets = if t.len() > crate::rules::SNIPPET_CHARS {
                    t.char_indices().map(|(i, _)| i as u32).collect()
                } else {
                    vec![]
                };
                (t.chars().count(), offsets)
            });
        if f.end_line == 0 {
            f.end_line = f.line;
            f.end_column = (*n_chars as u32 + 1).max(f.column + 1);
        }
        // Inline suppression on this line or the line above (source files
        // from their syntax tree, workflows from their YAML comments).
        let (sups, word) = match idx.file_index(&f.file) {
            Some(fi) => (
                &idx.files[fi].suppressions[..],
                comment_word(idx.files[fi].lang),
            ),
            None => (
                scan.ci_suppressions
                    .get(&f.file)
                    .map_or(&[][..], |v| &v[..]),
                "`# threatscan: ignore`".to_string(),
            ),
        };
        if let Some(s) = sups.iter().find(|s| {
            (s.line == f.line || s.line + 1 == f.line)
                && (s.rules.is_empty()
                    || s.rules
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(&f.rule_id) || *r == f.rule_name))
        }) {
            f.suppressed = Some(if s.reason.is_empty() {
                format!("suppressed by an inline {word} comment")
            } else {
                s.reason.clone()
            });
        }
        let key = (
            f.file.clone(),
            f.line,
            f.rule_id.clone(),
            f.function.clone(),
        );
        let h = *line_hash.entry(key).or_insert_with(|| {
            let norm: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            fnv1a(&[
                f.rule_id.as_bytes(),
                f.file.as_bytes(),
                f.function.as_deref().unwrap_or("").as_bytes(),
                norm.as_bytes(),
            ])
        });
        let n = seen_hash.entry(h).or_insert(0);
        *n += 1;
        f.fingerprint = format!("{h:016x}:{n}");
        let (from, snippet) = window(text, offsets, f.column.saturating_sub(1) as usize);
        f.snippet_from = from as u32;
        f.snippet = snippet.to_string();
    }
    let mut reads: Vec<(String, u64)> = sources
        .into_iter()
        .map(|(path, (text, _))| {
            let h = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
            (path, h)
        })
        .collect();
    reads.sort_unstable();
    (merged, reads)
}

/// Byte spans of a text's lines (without their line ending). Lines end at
/// LF, CRLF or a lone CR, as the extractors count them.
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = vec![];
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                out.push((start, i));
                start = i + 1;
            }
            b'\r' => {
                out.push((start, i));
                if b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

/// The snippet of a line for a finding at character `col`: the whole line
/// when short, else [`SNIPPET_CHARS`] characters around the column (found
/// through the line's character offsets), with the character it starts at.
fn window<'t>(line: &'t str, offsets: &[u32], col: usize) -> (usize, &'t str) {
    let line = line.trim_end();
    if offsets.is_empty() {
        return (0, line);
    }
    let from = col
        .saturating_sub(crate::rules::SNIPPET_CHARS / 4)
        .min(offsets.len());
    let to = (from + crate::rules::SNIPPET_CHARS).min(offsets.len());
    let at = |i: usize| offsets.get(i).map_or(line.len(), |&o| o as usize);
    (from, &line[at(from)..at(to)])
}

fn exclusion(w: &When) -> Option<globset::GlobSet> {
    if w.paths_exclude.is_empty() {
        return None;
    }
    let mut b = globset::GlobSetBuilder::new();
    for g in &w.paths_exclude {
        if let Ok(g) = globset::Glob::new(g) {
            b.add(g);
        }
    }
    b.build().ok()
}

fn note_more(f: &mut Finding, n: &mut usize) {
    if *n > 0 {
        let s = if *n == 1 { "" } else { "s" };
        f.message = format!(
            "{} (also reached from {} other entry point{s})",
            f.message.trim_end_matches('.'),
            n
        );
    }
    *n = 0;
}

fn comment_word(lang: Lang) -> String {
    format!("`{} threatscan: ignore`", lang.syntax().line_comment)
}

/// FNV-1a, 64-bit: stable across runs, platforms and versions (unlike std's hasher).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.iter().chain(&[0u8]) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

fn fill(template: &str, vars: &BTreeMap<&'static str, String>) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn entry_vars(e: &EntryPoint) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    v.insert("methods", e.methods.join(","));
    v.insert("pattern", e.pattern.clone().unwrap_or_default());
    v.insert("handler", e.handler.clone());
    v.insert("entry", entry_label(e));
    v
}

fn flags_text(f: &Fact) -> String {
    if f.flags.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = f.flags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("({})", parts.join(", "))
}

fn safe_matches(want: Option<bool>, have: Option<bool>) -> bool {
    match want {
        None => true,
        Some(true) => have == Some(true),
        Some(false) => have != Some(true),
    }
}

fn fact_matches(w: &When, f: &Fact) -> bool {
    // A shadowed route is never served.
    if f.shadowed {
        return false;
    }
    if !w.kinds.is_empty() && !w.kinds.iter().any(|k| k == f.kind) {
        return false;
    }
    let api = f.api.as_deref().unwrap_or("");
    if !w.api.is_empty() && any_match(&w.api, api).is_none() {
        return false;
    }
    if !safe_matches(w.safe, f.safe) {
        return false;
    }
    w.flags.iter().all(|(k, want)| {
        let have = f.flags.get(k).or_else(|| w.defaults.get(k));
        match have {
            Some(serde_json::Value::Array(xs)) => xs.contains(want) || Some(want) == have,
            Some(v) => v == want || (want.is_boolean() && truthy(v) == want.as_bool()),
            None => false,
        }
    })
}

/// The truth value of a literal, as Python reads it (`shell=1` is a shell):
/// numbers other than zero, non-empty strings and lists are true.
fn truthy(v: &serde_json::Value) -> Option<bool> {
    use serde_json::Value;
    Some(match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(xs) => !xs.is_empty(),
        Value::Object(m) => !m.is_empty(),
    })
}

/// Does `text` (a route pattern, a handler name) contain `word` as a whole
/// word? Words are split at every non-alphanumeric character and where a
/// lower-case letter meets an upper-case one (`/auth/prelogin` has no word
/// `login`; `loginUser` has). A word written with a separator (`sign-in`)
/// matches those words in sequence, whatever the separators.
fn has_word(text: &str, word: &str) -> bool {
    fn words(s: &str) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        let mut cur = String::new();
        let mut prev_lower = false;
        for c in s.chars() {
            if !c.is_alphanumeric() {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                prev_lower = false;
                continue;
            }
            if c.is_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
    let want = words(word);
    if want.is_empty() {
        return false;
    }
    let have = words(text);
    have.windows(want.len()).any(|w| w == want.as_slice())
}

/// What a flow finding's adjustments look at beside its entry point.
#[derive(Clone, Copy)]
struct FlowFacts<'x> {
    /// One single-segment route parameter is all the request data that
    /// reaches the sink.
    one_segment: bool,
    /// The sink's operation (`read`, `write`, ...).
    op: Option<&'x str>,
}

/// The level and reason the rule's first matching `[[rule.adjust]]` gives
/// a finding on (or flowing from) entry point `e`.
fn adjusted(
    rule: &super::Rule,
    e: &EntryPoint,
    reached: Option<&FxHashSet<&str>>,
    flow: Option<FlowFacts>,
) -> Option<(super::Level, String)> {
    use super::Level;
    let text = format!(
        "{} {}",
        e.pattern.as_deref().unwrap_or(""),
        e.handler.rsplit([':', '.']).next().unwrap_or("")
    );
    let guard = e.auth.iter().find(|g| g.required);
    let optional = e
        .auth
        .iter()
        .find(|g| !g.required && g.kind == "authentication");
    for a in &rule.adjust {
        if a.optional_auth
            .is_some_and(|want| want != optional.is_some())
        {
            continue;
        }
        let guard = guard.or(if a.optional_auth == Some(true) {
            optional
        } else {
            None
        });
        if !a.words.is_empty() && !a.words.iter().any(|w| has_word(&text, w)) {
            continue;
        }
        if a.auth.is_some_and(|want| want != guard.is_some()) {
            continue;
        }
        if !a.condition_words.is_empty() {
            let c = e.condition.as_deref().unwrap_or("").to_lowercase();
            if !a.condition_words.iter().any(|w| c.contains(w.as_str())) {
                continue;
            }
        }
        if a.one_segment
            .is_some_and(|want| flow.is_none_or(|f| f.one_segment != want))
        {
            continue;
        }
        if !a.ops.is_empty()
            && !flow
                .and_then(|f| f.op)
                .is_some_and(|op| a.ops.iter().any(|o| o == op))
        {
            continue;
        }
        if !a.reaches_none_of.is_empty()
            && reached.is_some_and(|r| a.reaches_none_of.iter().any(|k| r.contains(k.as_str())))
        {
            continue;
        }
        let mut level = a.level.unwrap_or(rule.level);
        for _ in 0..a.lower {
            level = match level {
                Level::Error => Level::Warning,
                _ => Level::Note,
            };
        }
        let why = a
            .reason
            .replace("{guard}", guard.map_or("", |g| g.name.as_str()))
            .replace("{condition}", e.condition.as_deref().unwrap_or(""));
        return Some((level, why));
    }
    None
}

/// Is entry point `e` served by a catalogued library view that checks a
/// submitted credential (`[behaviour] credential_views`), directly or
/// through a repository class built on one (the handler, or its class)?
fn credential_view(
    idx: &Index,
    graph: &crate::model::callgraph::CallGraph<'_>,
    cat: &Catalog,
    e: &EntryPoint,
) -> bool {
    let Some((f, Some(d))) = graph.node_of(&e.handler) else {
        return Lang::ALL.iter().any(|l| {
            cat.lang(*l)
                .behaviour
                .credential_views
                .first(&e.handler)
                .is_some()
        });
    };
    let file = &idx.files[f];
    let views = &cat.lang(file.lang).behaviour.credential_views;
    let class = match file.defs[d].kind {
        crate::extract::DefKind::Class => Some(d),
        _ => file.defs[d]
            .parent
            .filter(|&p| file.defs[p].kind == crate::extract::DefKind::Class),
    };
    class.is_some_and(|c| {
        file.defs[c].bases.iter().any(|b| {
            matches!(idx.resolve_expr(f, file.defs[c].parent, b),
                Some(crate::link::Target::External(api)) if views.first(&api).is_some())
        })
    })
}

/// For a finding with no entry point (a fact or a query hit): the first
/// `[[rule.adjust]]` that looks only at `condition_words`, when the code at
/// `line:column` runs only inside an `if` whose test names one of them
/// (`if settings.debug: app.run(debug=True)`).
fn conditioned(
    rule: &super::Rule,
    idx: &Index,
    file: &str,
    line: u32,
    column: u32,
) -> Option<(super::Level, String)> {
    use super::Level;
    let a = rule.adjust.iter().find(|a| {
        !a.condition_words.is_empty()
            && a.words.is_empty()
            && a.auth.is_none()
            && a.optional_auth.is_none()
            && a.reaches_none_of.is_empty()
            && a.one_segment.is_none()
            && a.ops.is_empty()
    })?;
    let fi = idx.file_index(file)?;
    let at = crate::extract::Pos { line, column };
    let f = &idx.files[fi];
    let mut best: Option<(&crate::extract::Stmt, String)> = None;
    for b in f
        .stmts
        .iter()
        .filter(|b| b.kind == crate::extract::StmtKind::Branch)
    {
        let Some((start, end)) = b.body else { continue };
        if !(start <= at && at < end) || matches!(b.value, crate::extract::Expr::Not(_)) {
            continue;
        }
        let mut names = vec![];
        crate::summary::visit(&b.value, 0, &mut |e| match e {
            crate::extract::Expr::Name(n, _) => names.push(*n),
            crate::extract::Expr::Str(v) => names.push(*v),
            _ => {}
        });
        let text = names.join(" ");
        if a.condition_words.iter().any(|w| has_word(&text, w))
            && best.as_ref().is_none_or(|(o, _)| o.pos < b.pos)
        {
            best = Some((b, text));
        }
    }
    let (_, cond) = best?;
    let mut level = a.level.unwrap_or(rule.level);
    for _ in 0..a.lower {
        level = match level {
            Level::Error => Level::Warning,
            _ => Level::Note,
        };
    }
    Some((level, a.reason.replace("{condition}", &cond)))
}

fn entry_matches(w: &When, e: &EntryPoint) -> bool {
    if !w.kinds.is_empty() && !w.kinds.contains(&e.kind) {
        return false;
    }
    if !w.methods.is_empty() && !e.methods.iter().any(|m| w.methods.contains(m)) {
        return false;
    }
    if !w.pattern_words.is_empty() {
        let p = e.pattern.as_deref().unwrap_or("");
        if !w.pattern_words.iter().any(|x| has_word(p, x)) {
            return false;
        }
    }
    // `auth = false`: no guard rejects anonymous requests (an optional
    // identity does not count).
    if let Some(a) = w.auth {
        if a != e.auth.iter().any(|g| g.required) {
            return false;
        }
    }
    if let Some(a) = w.route_auth {
        let own = e
            .auth
            .iter()
            .any(|g| g.required && !matches!(g.via.as_str(), "hook" | "middleware"));
        if a != own {
            return false;
        }
    }
    if let Some(r) = w.rate_limit {
        if r == e.rate_limit.is_empty() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::has_word;

    #[test]
    fn words_are_whole() {
        assert!(has_word("/api/v1/login/access-token", "login"));
        assert!(has_word("/api/v1/login/access-token", "token"));
        assert!(!has_word("/api/accounts/prelogin", "login"));
        assert!(has_word("/users/sign_in", "sign-in"));
        assert!(has_word("loginUser", "login"));
        assert!(!has_word("/api/tokens", "token"));
        assert!(has_word("/auth/verify-code", "verify-code"));
    }
}
