//! Language modules: each language's grammar, queries, module naming and the
//! facts about its syntax and semantics that the generic passes ask about
//! ([`Syntax`]). Generic code asks a property (`lang.syntax().sep`), never
//! which language it is; adding a language is a module here, its queries, a
//! catalogue file and fixtures.

pub mod python;
pub mod rust;

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
    (
        "imports.scm",
        include_str!("../../queries/python/imports.scm"),
    ),
    (
        "definitions.scm",
        include_str!("../../queries/python/definitions.scm"),
    ),
    ("calls.scm", include_str!("../../queries/python/calls.scm")),
    (
        "assignments.scm",
        include_str!("../../queries/python/assignments.scm"),
    ),
];

pub const RUST_QUERIES: &[(&str, &str)] = &[
    (
        "imports.scm",
        include_str!("../../queries/rust/imports.scm"),
    ),
    (
        "definitions.scm",
        include_str!("../../queries/rust/definitions.scm"),
    ),
    ("calls.scm", include_str!("../../queries/rust/calls.scm")),
    (
        "assignments.scm",
        include_str!("../../queries/rust/assignments.scm"),
    ),
];

/// How imports name modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportStyle {
    /// `from ..a import b`: dotted module names, relative by level.
    Dotted,
    /// `use crate::a::b`: paths relative to `crate`, `self`, `super` or a
    /// child module.
    Paths,
}

/// What a language is, as far as the generic passes need to know.
#[derive(Debug)]
pub struct Syntax {
    /// File name extensions.
    pub extensions: &'static [&'static str],
    /// Between the parts of a dotted or path name: `a.b`, `a::b`.
    pub sep: &'static str,
    /// Between a module and a symbol in a qualified name: `pkg.mod:f`, `krate::m::f`.
    pub symbol_sep: &'static str,
    /// Bytes that end a name's head (`a` of `a.b.c`; Rust: `.` or `:`).
    pub head_ends: &'static [u8],
    /// Top-level names of the standard library (never a repository module).
    pub standard_library: &'static [&'static str],
    /// Path heads relative to the current module (`crate`, `self`, `super`).
    pub relative_heads: &'static [&'static str],
    /// Parameters that receive the instance or class (`self`, `cls`, `&mut self`).
    pub receiver_params: &'static [&'static str],
    /// How a method names its own type's members (`self.`, `cls.`, `Self::`).
    pub receivers: &'static [&'static str],
    /// Methods are definitions nested in their class (Python), rather than
    /// named `Type::method` in impl blocks (Rust).
    pub methods_nested: bool,
    /// Decorators wrap the definition when it is evaluated, bottom-up.
    pub decorators_wrap: bool,
    /// Errors propagate only where the code says so (`f()?`, a returned
    /// `Err`); otherwise exceptions propagate from every call.
    pub explicit_errors: bool,
    /// The line-comment marker (suppression comments).
    pub line_comment: &'static str,
    /// Child modules and other crates are visible by name (`mod api;` then `api::f`).
    pub child_modules_by_name: bool,
    /// A path can go through a function (`f.attr`); Rust `x::y` never
    /// names something inside a function `x`.
    pub function_paths: bool,
    /// Values (layers, guards) built by calls the repository cannot resolve
    /// are judged by what they are built from (`ServiceBuilder::new().layer(x)`).
    pub builder_values: bool,
    /// Framework objects are bound by assigning a constructor call
    /// (`app = Flask(__name__)`).
    pub objects_by_assignment: bool,
    /// Framework objects are built by builder chains whose value is the
    /// object (`Router::new().route(..)`).
    pub builder_chains: bool,
    /// Dependencies are injected through parameter defaults (`Depends(f)`).
    pub injected_dependencies: bool,
    /// Handler parameter types run code before the handler (extractors,
    /// request guards: `FromRequest` implementations).
    pub typed_extractors: bool,
    /// A function returning a constructed object has that object's type.
    pub constructor_functions: bool,
    /// Macros whose value is their literal parts joined (`concat!`).
    pub concat_macros: &'static [&'static str],
    /// Methods that join a literal list (`["/a", "/b"].concat()`).
    pub concat_methods: &'static [&'static str],
    pub imports: ImportStyle,
    /// The package manifest whose name is the crate's (read during the walk).
    pub manifest: Option<&'static str>,
    /// Files that make their directory a package.
    pub package_markers: &'static [&'static str],
    /// File stems that stand for their directory's module (`mod.rs`).
    pub file_module_names: &'static [&'static str],
}

impl Syntax {
    /// Is this parameter the method's receiver (`self`, `&mut self`, `cls`)?
    pub fn is_receiver(&self, param: &str) -> bool {
        let p = param.trim_start_matches('&').trim_start();
        let p = p.strip_prefix("mut ").unwrap_or(p).trim();
        self.receiver_params.contains(&p)
    }
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Python, Lang::Rust];

    pub fn syntax(self) -> &'static Syntax {
        match self {
            Lang::Python => &python::SYNTAX,
            Lang::Rust => &rust::SYNTAX,
        }
    }

    pub fn from_path(path: &std::path::Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?;
        Lang::ALL
            .into_iter()
            .find(|l| l.syntax().extensions.contains(&ext))
    }

    /// The language whose manifest file has this name (`Cargo.toml`).
    pub fn of_manifest(name: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.syntax().manifest == Some(name))
    }

    /// The package name a manifest declares.
    pub fn manifest_name(self, text: &str) -> Option<String> {
        match self {
            Lang::Rust => rust::manifest_name(text),
            Lang::Python => None,
        }
    }

    /// A file's module names, the primary one first.
    pub fn module_names(
        self,
        path: &str,
        paths: &rustc_hash::FxHashSet<&str>,
        manifests: &std::collections::BTreeMap<String, String>,
    ) -> Vec<String> {
        match self {
            Lang::Python => python::module_names(path, paths),
            Lang::Rust => vec![rust::module_name(path, manifests)],
        }
    }

    /// Refuse a source the grammar cannot parse without aborting the whole
    /// process (a C assertion is not an error that can be caught).
    pub fn precheck(self, src: &[u8]) -> Result<(), String> {
        match self {
            Lang::Python => python::precheck(src),
            Lang::Rust => Ok(()),
        }
    }

    /// Extract a parsed file's facts.
    pub fn extract(
        self,
        tree: &tree_sitter::Tree,
        src: &[u8],
        path: String,
    ) -> crate::extract::FileFacts {
        match self {
            Lang::Python => crate::extract::python::extract(tree, src, path),
            Lang::Rust => crate::extract::rust::extract(tree, src, path),
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
