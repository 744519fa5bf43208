//! Languages, their tree-sitter grammars and their embedded queries.

use crate::extract::matcher::Matcher;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use tree_sitter::{Language, Query};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Python,
    Rust,
}

/// The query files of each language, embedded at build time. Each language's
/// files are concatenated into one query so a file is traversed once.
pub const PYTHON_QUERIES: &[(&str, &str)] = &[
    ("imports.scm", include_str!("../queries/python/imports.scm")),
    (
        "definitions.scm",
        include_str!("../queries/python/definitions.scm"),
    ),
    ("calls.scm", include_str!("../queries/python/calls.scm")),
    (
        "assignments.scm",
        include_str!("../queries/python/assignments.scm"),
    ),
];

pub const RUST_QUERIES: &[(&str, &str)] = &[
    ("imports.scm", include_str!("../queries/rust/imports.scm")),
    (
        "definitions.scm",
        include_str!("../queries/rust/definitions.scm"),
    ),
    ("calls.scm", include_str!("../queries/rust/calls.scm")),
    (
        "assignments.scm",
        include_str!("../queries/rust/assignments.scm"),
    ),
];

impl Lang {
    pub fn from_path(path: &std::path::Path) -> Option<Lang> {
        match path.extension()?.to_str()? {
            "py" | "pyi" => Some(Lang::Python),
            "rs" => Some(Lang::Rust),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Rust => "rust",
        }
    }

    pub fn grammar(self) -> Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }

    pub fn query_files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::Python => PYTHON_QUERIES,
            Lang::Rust => RUST_QUERIES,
        }
    }

    /// The language's query files concatenated: one source for both engines.
    fn query_source(self) -> String {
        self.query_files()
            .iter()
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The language's queries compiled by tree-sitter, once per process: the
    /// reference semantics (tests check [`Lang::matcher`] against it).
    pub fn query(self) -> &'static Query {
        static PY: OnceLock<Query> = OnceLock::new();
        static RS: OnceLock<Query> = OnceLock::new();
        let cell = match self {
            Lang::Python => &PY,
            Lang::Rust => &RS,
        };
        cell.get_or_init(|| {
            // The queries are compiled against their grammar by a unit test,
            // so a failure here is a build defect, not bad user input.
            Query::new(&self.grammar(), &self.query_source()).expect("embedded queries compile")
        })
    }

    /// The language's queries compiled for the single-pass extraction
    /// matcher ([`Matcher`]), once per process.
    pub fn matcher(self) -> &'static Matcher {
        static PY: OnceLock<Matcher> = OnceLock::new();
        static RS: OnceLock<Matcher> = OnceLock::new();
        let cell = match self {
            Lang::Python => &PY,
            Lang::Rust => &RS,
        };
        cell.get_or_init(|| {
            // Checked by a unit test, like `query()`.
            Matcher::new(&self.grammar(), &self.query_source()).expect("embedded queries compile")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_file_compiles_against_its_grammar() {
        for lang in [Lang::Python, Lang::Rust] {
            for (name, src) in lang.query_files() {
                if let Err(e) = Query::new(&lang.grammar(), src) {
                    panic!("queries/{}/{name}: {e}", lang.name());
                }
            }
            assert!(lang.query().pattern_count() > 0);
            assert_eq!(lang.matcher().pattern_count(), lang.query().pattern_count());
            assert_eq!(
                lang.matcher().capture_names(),
                lang.query().capture_names(),
                "both engines number captures alike"
            );
        }
    }
}
