//! `verify --format sarif`: problems as SARIF 2.1.0 results located in the
//! threat model document, so GitHub code scanning shows a broken reference as
//! an alert on the document itself. The result kinds are data
//! (`[[result]]` in rules/verify.toml).

use super::claims::vocabulary;
use super::Report;
use crate::rules::engine::fnv1a;
use crate::rules::sarif::{location, mstring, text};
use serde_json::Value;
use serde_sarif::sarif as s;
use std::collections::BTreeMap;
use std::path::Path;

/// Where a document lives, as SARIF sees it: repo-relative under %SRCROOT%
/// when it is inside the repository, else an absolute `file:` URI.
fn doc_uri(doc: &str, root: &Path) -> (String, bool) {
    let p = Path::new(doc);
    let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match abs.strip_prefix(&root) {
        Ok(rel) => (rel.to_string_lossy().replace('\\', "/"), true),
        Err(_) => (format!("file://{}", abs.to_string_lossy()), false),
    }
}

struct Item {
    rule: &'static str,
    message: String,
    line: u32,
    column: Option<u32>,
    /// The last line of a claim's sentence, when it goes on past `line`.
    end_line: Option<u32>,
    /// Identity for the fingerprint: what the document says, not where.
    key: String,
    related: Vec<(String, u32, String)>,
    /// In the code rather than the document (new since the review).
    code_file: Option<String>,
}

pub fn render(r: &Report, root: &Path) -> String {
    let v = vocabulary();
    let rule_ids: Vec<&str> = v.result.iter().map(|x| x.id.as_str()).collect();
    let descriptors: Vec<s::ReportingDescriptor> = v
        .result
        .iter()
        .map(|x| {
            let mut d = s::ReportingDescriptor::builder().id(x.id.clone()).build();
            d.name = Some(x.name.clone());
            let mut props = BTreeMap::new();
            props.insert(
                "problem.severity".to_string(),
                Value::String(x.level.clone()),
            );
            s::ReportingDescriptor {
                short_description: Some(mstring(&x.short, None)),
                full_description: Some(mstring(&x.full, None)),
                help: Some(mstring(&x.help, Some(&x.help))),
                help_uri: Some(format!(
                    "{}/blob/main/docs/rules.md#{}-{}",
                    env!("CARGO_PKG_REPOSITORY"),
                    x.id.to_lowercase(),
                    x.name
                )),
                default_configuration: Some(s::ReportingConfiguration {
                    level: Some(Value::String(x.level.clone())),
                    ..Default::default()
                }),
                properties: Some(s::PropertyBag {
                    tags: Some(vec!["threat-model".into(), "maintainability".into()]),
                    additional_properties: props,
                }),
                ..d
            }
        })
        .collect();
    let mut results = vec![];
    for d in &r.documents {
        let (uri, in_repo) = doc_uri(&d.file, root);
        let mut items: Vec<Item> = vec![];
        for x in &d.references {
            let (rule, msg) = match x.status.as_str() {
                "missing" => (
                    "TV001",
                    format!(
                        "`{}` does not resolve in the repository{}",
                        x.text,
                        x.suggestion
                            .as_ref()
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default()
                    ),
                ),
                "outside-repo" => (
                    "TV001",
                    format!("`{}` points outside the repository (not read)", x.text),
                ),
                "ambiguous" => ("TV003", format!("`{}` is ambiguous", x.text)),
                "resolved" if x.used == Some(false) => (
                    "TV002",
                    format!(
                        "`{}` exists but nothing outside its definition refers to it",
                        x.text
                    ),
                ),
                "external" if x.used == Some(false) => (
                    "TV002",
                    format!("`{}` is cited but never called in the repository", x.text),
                ),
                _ => continue,
            };
            let msg = match &x.note {
                Some(n) if x.status != "external" => format!("{msg} ({n})"),
                _ => msg,
            };
            items.push(Item {
                rule,
                message: msg,
                line: x.line,
                end_line: None,
                column: Some(x.column),
                key: x.text.clone(),
                related: x
                    .target
                    .iter()
                    .map(|t| (t.file.clone(), t.line, "the definition".to_string()))
                    .collect(),
                code_file: None,
            });
        }
        for c in &d.claims {
            let rule = match c.status.as_str() {
                "contradicted" => "TV004",
                "unverified" => "TV005",
                _ => continue,
            };
            let what = match c.polarity.as_str() {
                _ if c.mitigation == "n/a" => "n/a".to_string(),
                "absent" => format!("no {}", c.mitigation.replace('_', " ")),
                "not_applicable" => format!("{} n/a", c.mitigation.replace('_', " ")),
                _ => c.mitigation.replace('_', " "),
            };
            let mut message = format!("Claim \"{what}\" ({}): {}", c.context, c.reason);
            if let Some(t) = &c.threat {
                message = format!("Threat {} \"{}\": {}", t.id, t.title, c.reason);
            }
            if let Some(e) = c
                .element
                .as_ref()
                .filter(|e| !c.reason.contains(e.as_str()))
            {
                message.push_str(&format!(" (judged on {e})"));
            }
            items.push(Item {
                rule,
                message,
                line: c.line,
                column: c.column,
                end_line: c
                    .sentence_lines
                    .map(|(_, last)| last)
                    .filter(|last| *last > c.line),
                key: format!(
                    "{} {} {} {}",
                    c.context,
                    c.mitigation,
                    c.polarity,
                    c.threat.as_ref().map(|t| t.id.as_str()).unwrap_or("")
                ),
                related: c
                    .evidence
                    .iter()
                    .map(|e| (e.file.clone(), e.line, "evidence in the code".to_string()))
                    .collect(),
                code_file: None,
            });
        }
        for ch in &d.changes {
            let new = ch.kind.starts_with("new_");
            items.push(Item {
                rule: if new { "TV006" } else { "TV007" },
                message: format!("{}: {}", ch.kind.replace('_', " "), ch.what),
                line: ch
                    .location
                    .as_ref()
                    .map(|l| l.line)
                    .or(ch.line)
                    .unwrap_or(1),
                column: None,
                end_line: None,
                key: ch.what.clone(),
                related: vec![],
                code_file: ch.location.as_ref().map(|l| l.file.clone()),
            });
        }
        let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
        for it in items {
            let h = fnv1a(&[it.rule.as_bytes(), uri.as_bytes(), it.key.as_bytes()]);
            let n = seen.entry(h).or_insert(0);
            *n += 1;
            let region = s::Region {
                start_line: Some(it.line.max(1) as i64),
                start_column: it.column.map(|c| c as i64),
                end_line: it.end_line.map(|l| l as i64),
                ..Default::default()
            };
            let mut loc = match &it.code_file {
                Some(f) => location(f, region, None),
                None if in_repo => location(&uri, region, None),
                None => {
                    let mut l = location(&uri, region, None);
                    if let Some(pl) = l.physical_location.as_mut() {
                        if let Some(a) = pl.artifact_location.as_mut() {
                            a.uri = Some(uri.clone());
                            a.uri_base_id = None;
                        }
                    }
                    l
                }
            };
            loc.message = None;
            let related: Vec<s::Location> = it
                .related
                .iter()
                .take(100)
                .enumerate()
                .map(|(i, (f, l, m))| {
                    let mut x = location(
                        f,
                        s::Region {
                            start_line: Some((*l).max(1) as i64),
                            ..Default::default()
                        },
                        Some(m),
                    );
                    x.id = Some(i as i64 + 1);
                    x
                })
                .collect();
            let mut fp = BTreeMap::new();
            fp.insert("threatscan/v1".to_string(), format!("{h:016x}:{n}"));
            let mut res = s::Result::builder().message(text(&it.message)).build();
            res.rule_id = Some(it.rule.to_string());
            res.rule_index = rule_ids
                .iter()
                .position(|x| *x == it.rule)
                .map(|i| i as i64);
            res.level = v
                .result
                .iter()
                .find(|x| x.id == it.rule)
                .and_then(|x| serde_json::from_value(Value::String(x.level.clone())).ok());
            res.locations = Some(vec![loc]);
            res.related_locations = (!related.is_empty()).then_some(related);
            res.partial_fingerprints = Some(fp);
            results.push(res);
        }
    }
    crate::rules::sarif::log(crate::rules::sarif::Run {
        descriptors,
        results,
        notifications: vec![],
        category: Some("threatscan-verify".into()),
        root_description: "The root of the repository the threat model describes.",
        working_directory: None,
    })
}
