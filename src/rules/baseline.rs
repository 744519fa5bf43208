//! `--baseline old.sarif`: mark each finding `new` or `unchanged` by its
//! fingerprint, and carry the baseline's vanished results over as `absent`.

use super::Finding;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The key of [`Finding::fingerprint`] in SARIF `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "threatscan/v1";

/// Baselines larger than this are refused by default; `scan
/// --max-baseline-size` changes it. A full threatscan SARIF log (at most
/// 25,000 results) is far smaller.
pub const MAX_BASELINE: u64 = 256 * 1024 * 1024;

/// Results of a previous SARIF log: their fingerprints, and the results
/// themselves, kept as their JSON text (parsed again only when carried over).
pub struct Baseline {
    pub fingerprints: BTreeSet<String>,
    pub results: Vec<(String, Box<RawValue>)>,
}

#[derive(Deserialize)]
struct Log {
    runs: Vec<Run>,
}

#[derive(Deserialize)]
struct Run {
    #[serde(default)]
    results: Vec<Box<RawValue>>,
}

/// The two fields of a result that decide how it is used.
#[derive(Deserialize)]
struct ResultHead {
    #[serde(rename = "baselineState")]
    baseline_state: Option<Value>,
    #[serde(rename = "partialFingerprints", default)]
    partial_fingerprints: BTreeMap<String, Value>,
}

impl Baseline {
    pub fn read(path: &Path) -> Result<Baseline, String> {
        Baseline::read_capped(path, MAX_BASELINE)
    }

    /// [`Baseline::read`] with a size cap in bytes. Only a regular file is
    /// read; memory stays close to the file's size.
    pub fn read_capped(path: &Path, cap: u64) -> Result<Baseline, String> {
        let name = path.display();
        let text = crate::fsread::read_given(path, cap).map_err(|e| match e {
            crate::fsread::ReadError::TooLarge(cap) => format!(
                "baseline {name} is over the {} limit (--max-baseline-size)",
                crate::walk::human_size(cap)
            ),
            e => format!("cannot read baseline {name}: {e}"),
        })?;
        Baseline::from_bytes(&name.to_string(), &text)
    }

    /// Parse a baseline's bytes (`name` is for messages).
    pub fn from_bytes(name: &str, text: &[u8]) -> Result<Baseline, String> {
        let not_sarif = |e: serde_json::Error| {
            format!(
                "baseline {name} is not a SARIF log: {} at line {}, column {}",
                match e.classify() {
                    serde_json::error::Category::Io => "read error",
                    serde_json::error::Category::Syntax => "invalid JSON",
                    serde_json::error::Category::Data => "unexpected shape",
                    serde_json::error::Category::Eof => "unexpected end",
                },
                e.line(),
                e.column()
            )
        };
        let log: Log = serde_json::from_slice(text).map_err(not_sarif)?;
        let mut fingerprints = BTreeSet::new();
        let mut results = vec![];
        for run in log.runs {
            for r in run.results {
                let Ok(head) = serde_json::from_str::<ResultHead>(r.get()) else {
                    continue;
                };
                // Results already absent in the baseline stay gone.
                if head.baseline_state.as_ref().and_then(Value::as_str) == Some("absent") {
                    continue;
                }
                if let Some(fp) = head
                    .partial_fingerprints
                    .get(FINGERPRINT_KEY)
                    .and_then(Value::as_str)
                {
                    fingerprints.insert(fp.to_string());
                    results.push((fp.to_string(), r));
                }
            }
        }
        Ok(Baseline {
            fingerprints,
            results,
        })
    }

    /// Mark findings, and return the baseline results no finding matches.
    pub fn apply(&self, findings: &mut [Finding]) -> Vec<Value> {
        let mut now = BTreeSet::new();
        for f in findings.iter_mut() {
            let state = if self.fingerprints.contains(&f.fingerprint) {
                "unchanged"
            } else {
                "new"
            };
            f.baseline = Some(state.into());
            now.insert(f.fingerprint.clone());
        }
        self.results
            .iter()
            .filter(|(fp, _)| !now.contains(fp))
            // The SARIF log keeps at most this many results in all.
            .take(super::sarif::MAX_RESULTS)
            .filter_map(|(_, r)| serde_json::from_str::<Value>(r.get()).ok())
            .map(|mut r| {
                if let Some(o) = r.as_object_mut() {
                    o.insert("baselineState".into(), Value::String("absent".into()));
                }
                r
            })
            .collect()
    }
}
