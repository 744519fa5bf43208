//! SARIF 2.1.0 for GitHub code scanning, through `serde-sarif`.

use super::baseline::FINGERPRINT_KEY;
use super::{Finding, Level, RuleSet};
use crate::walk::Skipped;
use serde_json::{json, Value};
use serde_sarif::sarif as s;
use std::collections::BTreeMap;

/// GitHub accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// ... and this many locations per result (related locations included).
pub const MAX_LOCATIONS: usize = 1_000;

pub struct SarifInput<'a> {
    pub rules: &'a RuleSet,
    pub findings: &'a [Finding],
    /// Baseline results that disappeared (`baselineState: absent`).
    pub absent: &'a [Value],
    pub skipped: &'a [Skipped],
    /// Files analysed only in part, and why.
    pub partial: &'a [Skipped],
    pub category: Option<&'a str>,
    /// The scanned root's path from the repository root (`""` when they
    /// are the same): every URI is relative to the repository root.
    pub root_prefix: &'a str,
    /// `invocations[].workingDirectory`, a `file://` URI.
    pub working_directory: Option<String>,
}

pub(crate) fn text(t: impl Into<String>) -> s::Message {
    s::Message {
        text: Some(t.into()),
        ..Default::default()
    }
}

pub(crate) fn mstring(t: &str, md: Option<&str>) -> s::MultiformatMessageString {
    s::MultiformatMessageString {
        text: t.to_string(),
        markdown: md.map(str::to_string),
        properties: None,
    }
}

pub(crate) fn location(file: &str, region: s::Region, message: Option<&str>) -> s::Location {
    s::Location {
        physical_location: Some(s::PhysicalLocation {
            artifact_location: Some(s::ArtifactLocation {
                uri: Some(uri(file)),
                uri_base_id: Some("%SRCROOT%".into()),
                ..Default::default()
            }),
            region: Some(region),
            ..Default::default()
        }),
        message: message.map(text),
        ..Default::default()
    }
}

/// A repo-relative path as a URI reference (percent-encoding what must be).
/// `%` is kept: in a repo-relative path it already starts an escape (see
/// [`crate::walk::rel_path`]).
pub(crate) fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b'%' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(crate) fn notification(message: String) -> s::Notification {
    s::Notification::builder().message(text(message)).build()
}

fn result_level(l: Level) -> s::ResultLevel {
    match l {
        Level::Note => s::ResultLevel::Note,
        Level::Warning => s::ResultLevel::Warning,
        Level::Error => s::ResultLevel::Error,
    }
}

fn level(l: Level) -> Value {
    Value::String(l.as_str().into())
}

pub fn render(input: &SarifInput) -> String {
    let rules = input.rules;
    let descriptors: Vec<s::ReportingDescriptor> = rules
        .rules
        .iter()
        .map(|r| {
            let mut props = BTreeMap::new();
            props.insert(
                "security-severity".to_string(),
                Value::String(format!("{:.1}", r.security_severity)),
            );
            props.insert("precision".to_string(), Value::String(r.precision.clone()));
            props.insert(
                "problem.severity".to_string(),
                Value::String(r.level.as_str().into()),
            );
            props.insert("stride".to_string(), Value::String(r.stride.clone()));
            let mut d = s::ReportingDescriptor::builder().id(r.id.clone()).build();
            d.name = Some(r.name.clone());
            s::ReportingDescriptor {
                short_description: Some(mstring(&r.short, None)),
                full_description: Some(mstring(&r.full, None)),
                help: Some(mstring(
                    &format!("{}\n\n{}", r.full.trim(), r.help.trim()),
                    Some(&format!("{}\n\n{}", r.full.trim(), r.help.trim())),
                )),
                help_uri: Some(r.help_uri()),
                default_configuration: Some(s::ReportingConfiguration {
                    level: Some(level(r.level)),
                    ..Default::default()
                }),
                properties: Some(s::PropertyBag {
                    tags: Some(r.all_tags()),
                    additional_properties: props,
                }),
                ..d
            }
        })
        .collect();

    let mut notifications: Vec<s::Notification> = input
        .skipped
        .iter()
        .map(|sk| ("Skipped", sk))
        .chain(input.partial.iter().map(|sk| ("Partly scanned", sk)))
        .map(|(what, sk)| s::Notification {
            level: Some(Value::String("warning".into())),
            locations: Some(vec![s::Location {
                physical_location: Some(s::PhysicalLocation {
                    artifact_location: Some(s::ArtifactLocation {
                        uri: Some(uri(&sk.file)),
                        uri_base_id: Some("%SRCROOT%".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..notification(format!(
                "{what} {}: {}.",
                sk.file,
                sk.reason.trim_end_matches('.')
            ))
        })
        .collect();

    let total = input.findings.len() + input.absent.len();
    if total > MAX_RESULTS {
        notifications.push(s::Notification {
            level: Some(Value::String("warning".into())),
            ..notification(format!(
                "{total} results were found; only the first {MAX_RESULTS} are included (GitHub's limit per run)."
            ))
        });
    }

    let mut results: Vec<s::Result> = vec![];
    for f in input.findings.iter().take(MAX_RESULTS) {
        results.push(result(rules, f));
    }
    for a in input
        .absent
        .iter()
        .take(MAX_RESULTS.saturating_sub(results.len()))
    {
        if let Ok(mut r) = serde_json::from_value::<s::Result>(a.clone()) {
            r.rule_index = r
                .rule_id
                .as_deref()
                .and_then(|id| rules.index_of(id))
                .map(|i| i as i64);
            if r.rule_index.is_none() {
                continue; // the rule itself is gone
            }
            results.push(r);
        }
    }

    if !input.root_prefix.is_empty() {
        let pre = format!("{}/", uri(input.root_prefix.trim_end_matches('/')));
        let fix = |l: &mut s::Location| {
            if let Some(a) = l
                .physical_location
                .as_mut()
                .and_then(|p| p.artifact_location.as_mut())
            {
                if let Some(u) = a.uri.as_mut() {
                    *u = format!("{pre}{u}");
                }
            }
        };
        for r in &mut results {
            r.locations.iter_mut().flatten().for_each(fix);
            r.related_locations.iter_mut().flatten().for_each(fix);
            for cf in r.code_flows.iter_mut().flatten() {
                for tf in &mut cf.thread_flows {
                    for loc in &mut tf.locations {
                        loc.location.as_mut().map(fix);
                    }
                }
            }
        }
        for n in &mut notifications {
            n.locations.iter_mut().flatten().for_each(fix);
        }
    }
    log(Run {
        descriptors,
        results,
        notifications,
        category: input.category.map(str::to_string),
        root_description: "The root of the repository (its git work tree).",
        working_directory: input.working_directory.clone(),
    })
}

/// What differs between threatscan's SARIF logs (`scan` and `verify`).
pub(crate) struct Run {
    pub descriptors: Vec<s::ReportingDescriptor>,
    pub results: Vec<s::Result>,
    pub notifications: Vec<s::Notification>,
    /// `runAutomationDetails.id` (a trailing `/` is added).
    pub category: Option<String>,
    pub root_description: &'static str,
    pub working_directory: Option<String>,
}

/// One SARIF 2.1.0 log with one run: the driver, `%SRCROOT%`, the invocation.
pub(crate) fn log(r: Run) -> String {
    let mut original = BTreeMap::new();
    original.insert(
        "%SRCROOT%".to_string(),
        s::ArtifactLocation {
            description: Some(text(r.root_description)),
            ..Default::default()
        },
    );
    let mut driver = s::ToolComponent::builder().name("threatscan").build();
    driver.semantic_version = Some(env!("CARGO_PKG_VERSION").into());
    driver.version = Some(env!("CARGO_PKG_VERSION").into());
    driver.information_uri = Some(env!("CARGO_PKG_REPOSITORY").into());
    driver.rules = Some(r.descriptors);
    let mut invocation = s::Invocation::builder().execution_successful(true).build();
    invocation.working_directory = r.working_directory.map(|u| s::ArtifactLocation {
        uri: Some(u),
        ..Default::default()
    });
    invocation.tool_execution_notifications =
        (!r.notifications.is_empty()).then_some(r.notifications);
    let mut run = s::Run::builder()
        .tool(s::Tool::builder().driver(driver).build())
        .build();
    run.automation_details = r.category.map(|c| s::RunAutomationDetails {
        id: Some(format!("{}/", c.trim_end_matches('/'))),
        ..Default::default()
    });
    run.original_uri_base_ids = Some(original);
    run.invocations = Some(vec![invocation]);
    run.column_kind = Some(Value::String("unicodeCodePoints".into()));
    run.results = Some(r.results);
    let mut log = s::Sarif::builder()
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    log.schema = Some(s::SCHEMA_URL.into());
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn result(rules: &RuleSet, f: &Finding) -> s::Result {
    let region = s::Region {
        start_line: Some(f.line as i64),
        start_column: Some(f.column as i64),
        end_line: Some(f.end_line as i64),
        end_column: Some(f.end_column as i64),
        ..Default::default()
    };
    // The chain, as located messages: related locations and the code flow share them.
    let chain: Vec<s::Location> = f
        .related
        .iter()
        .take(MAX_LOCATIONS - 1)
        .map(|r| {
            location(
                &r.file,
                s::Region {
                    start_line: Some(r.line as i64),
                    start_column: Some(r.column as i64),
                    ..Default::default()
                },
                Some(&r.message),
            )
        })
        .collect();
    let related: Vec<s::Location> = chain
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut l = l.clone();
            l.id = Some(i as i64 + 1);
            l
        })
        .collect();
    let code_flows = (!chain.is_empty()).then(|| {
        let mut steps: Vec<s::ThreadFlowLocation> = chain
            .into_iter()
            .map(|l| s::ThreadFlowLocation {
                location: Some(l),
                ..Default::default()
            })
            .collect();
        steps.push(s::ThreadFlowLocation {
            location: Some(location(&f.file, region.clone(), Some("the sink"))),
            ..Default::default()
        });
        let mut flow = s::CodeFlow::builder()
            .thread_flows(vec![s::ThreadFlow::builder().locations(steps).build()])
            .build();
        flow.message = Some(text(
            "From the entry point through the call chain to the sink.",
        ));
        vec![flow]
    });
    let mut fp = BTreeMap::new();
    fp.insert(FINGERPRINT_KEY.to_string(), f.fingerprint.clone());
    let mut r = s::Result::builder().message(text(&f.message)).build();
    r.rule_id = Some(f.rule_id.clone());
    r.rule_index = rules.index_of(&f.rule_id).map(|i| i as i64);
    r.level = Some(result_level(f.level));
    r.locations = Some(vec![location(&f.file, region, None)]);
    r.related_locations = (!related.is_empty()).then_some(related);
    r.code_flows = code_flows;
    r.partial_fingerprints = Some(fp);
    r.suppressions = f.suppressed.as_ref().map(|j| {
        let mut sup = s::Suppression::builder()
            .kind(Value::String("inSource".into()))
            .build();
        sup.justification = Some(j.clone());
        vec![sup]
    });
    r.baseline_state = f.baseline.clone().map(Value::String);
    r
}
