//! `--baseline old.sarif`: mark each finding `new` or `unchanged` by its
//! fingerprint, and carry the baseline's vanished results over as `absent`.

use super::Finding;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// The key of [`Finding::fingerprint`] in SARIF `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "threatscan/v1";

/// Results of a previous SARIF log: their fingerprints, and the results themselves.
pub struct Baseline {
    pub fingerprints: BTreeSet<String>,
    pub results: Vec<(String, Value)>,
}

impl Baseline {
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read(path).map_err(|e| {
            format!(
                "cannot read baseline {}: {}",
                path.display(),
                crate::walk::plain_io(&e)
            )
        })?;
        let v: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("baseline {} is not a SARIF log: {e}", path.display()))?;
        let runs = v
            .get("runs")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("baseline {} is not a SARIF log: no runs", path.display()))?;
        let mut fingerprints = BTreeSet::new();
        let mut results = vec![];
        for run in runs {
            for r in run
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                // Results already absent in the baseline stay gone.
                if r.get("baselineState").and_then(Value::as_str) == Some("absent") {
                    continue;
                }
                if let Some(fp) = r
                    .pointer(&format!(
                        "/partialFingerprints/{}",
                        FINGERPRINT_KEY.replace('/', "~1")
                    ))
                    .and_then(Value::as_str)
                {
                    fingerprints.insert(fp.to_string());
                    results.push((fp.to_string(), r.clone()));
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
            .map(|(_, r)| {
                let mut r = r.clone();
                if let Some(o) = r.as_object_mut() {
                    o.insert("baselineState".into(), Value::String("absent".into()));
                }
                r
            })
            .collect()
    }
}
