//! Code scope: what part of a repository a file (or a Rust item) belongs to.
//! Tests, examples, docs, benchmarks, build scripts, development settings and
//! vendored code do not run in production; `model`, `scan` and `verify` leave them out unless asked
//! (`--scope all`, `--include test,example`), and say how much they left out.
//!
//! Decided from conventions (directory and file names, `conftest.py`, Rust
//! `tests/`, `benches/`, `examples/`, `build.rs`, `#[cfg(test)]` modules and
//! `#[test]` functions), overridden by `[scope]` globs in `.threatscan.toml`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Production,
    Test,
    Example,
    Docs,
    Benchmark,
    Build,
    /// Settings for a developer's machine: a settings module named `dev`,
    /// `development` or `local` (`settings/dev.py`, `settings_dev.py`).
    Development,
    Vendored,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Production,
        Scope::Test,
        Scope::Example,
        Scope::Docs,
        Scope::Benchmark,
        Scope::Build,
        Scope::Development,
        Scope::Vendored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Production => "production",
            Scope::Test => "test",
            Scope::Example => "example",
            Scope::Docs => "docs",
            Scope::Benchmark => "benchmark",
            Scope::Build => "build",
            Scope::Development => "development",
            Scope::Vendored => "vendored",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Directory names and what they hold. A path takes the scope of its
/// outermost matching directory (`examples/app/tests/x.py` is an example).
const DIRS: &[(&str, Scope)] = &[
    ("tests", Scope::Test),
    ("test", Scope::Test),
    ("testing", Scope::Test),
    ("__tests__", Scope::Test),
    ("e2e", Scope::Test),
    ("e2e_tests", Scope::Test),
    ("integration_tests", Scope::Test),
    ("smoke", Scope::Test),
    ("smoke_tests", Scope::Test),
    ("smoketests", Scope::Test),
    ("testdata", Scope::Test),
    ("test_data", Scope::Test),
    ("fixtures", Scope::Test),
    ("examples", Scope::Example),
    ("example", Scope::Example),
    ("demos", Scope::Example),
    ("demo", Scope::Example),
    ("samples", Scope::Example),
    ("sample", Scope::Example),
    ("docs", Scope::Docs),
    ("doc", Scope::Docs),
    ("docs_src", Scope::Docs),
    ("benches", Scope::Benchmark),
    ("benchmarks", Scope::Benchmark),
    ("benchmark", Scope::Benchmark),
    ("asv_bench", Scope::Benchmark),
    ("vendor", Scope::Vendored),
    ("vendored", Scope::Vendored),
    ("_vendor", Scope::Vendored),
    ("third_party", Scope::Vendored),
    ("thirdparty", Scope::Vendored),
    ("site-packages", Scope::Vendored),
    ("node_modules", Scope::Vendored),
];

/// Files run only to build, package or develop the project.
const BUILD_FILES: &[&str] = &[
    "setup.py",
    "build.rs",
    "noxfile.py",
    "fabfile.py",
    "conf.py",
    "hatch_build.py",
];

/// The scope of a repository-relative path by convention.
pub fn by_convention(rel: &str) -> Scope {
    // Workflows run in CI on every push, whatever they are named
    // (`test.yml`, `docs.yml`): they are production.
    if rel
        .strip_prefix(crate::supply_chain::WORKFLOW_DIR)
        .is_some_and(|r| r.starts_with('/') && !r[1..].contains('/'))
    {
        return Scope::Production;
    }
    let parts: Vec<&str> = rel.split('/').collect();
    let (file, dirs) = parts.split_last().unwrap_or((&"", &[]));
    for d in dirs {
        let d = d.to_ascii_lowercase();
        if let Some((_, s)) = DIRS.iter().find(|(n, _)| *n == d) {
            return *s;
        }
    }
    let stem = file
        .rsplit_once('.')
        .map_or(*file, |(s, _)| s)
        .to_ascii_lowercase();
    if stem == "conftest"
        || stem == "tests"
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_tests")
    {
        return Scope::Test;
    }
    if BUILD_FILES.contains(file) && (dirs.is_empty() || *file == "build.rs") {
        return Scope::Build;
    }
    // Settings modules by name: `settings/dev.py` (and `local.py`,
    // `local_dev.py`, `development.py`), `settings_dev.py`, `dev_settings.py`;
    // in a settings folder, `test.py` is test configuration. A name that
    // also says production (`prod_local.py`) stays production.
    let in_settings = dirs
        .last()
        .is_some_and(|d| d.eq_ignore_ascii_case("settings"));
    let variant = if in_settings {
        Some(stem.as_str())
    } else {
        stem.strip_prefix("settings_")
            .or_else(|| stem.strip_suffix("_settings"))
    };
    if let Some(v) = variant {
        let words: Vec<&str> = v.split(['_', '-', '.']).collect();
        let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
        if !has(&["prod", "production", "live", "deploy", "docker"]) {
            if has(&["dev", "devel", "development", "local"]) {
                return Scope::Development;
            }
            if has(&["test", "testing", "ci"]) {
                return Scope::Test;
            }
        }
    }
    Scope::Production
}

/// `[scope]` in `.threatscan.toml`: globs (repository-relative, as in
/// `.gitignore`) that put files in a scope whatever their names say.
/// `production = ["tools/deploy/**"]`, `test = ["qa/**"]`, …
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    #[serde(default)]
    pub production: Vec<String>,
    #[serde(default)]
    pub test: Vec<String>,
    #[serde(default)]
    pub example: Vec<String>,
    #[serde(default)]
    pub docs: Vec<String>,
    #[serde(default)]
    pub benchmark: Vec<String>,
    #[serde(default)]
    pub build: Vec<String>,
    #[serde(default)]
    pub development: Vec<String>,
    #[serde(default)]
    pub vendored: Vec<String>,
}

/// Compiled `[scope]` overrides.
#[derive(Default)]
pub struct Overrides(Vec<(globset::GlobMatcher, Scope)>);

impl Overrides {
    pub fn new(c: &ScopeConfig) -> Result<Overrides, String> {
        let mut out = vec![];
        for (scope, globs) in [
            (Scope::Production, &c.production),
            (Scope::Test, &c.test),
            (Scope::Example, &c.example),
            (Scope::Docs, &c.docs),
            (Scope::Benchmark, &c.benchmark),
            (Scope::Build, &c.build),
            (Scope::Development, &c.development),
            (Scope::Vendored, &c.vendored),
        ] {
            for g in globs {
                let glob = globset::GlobBuilder::new(g)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        format!("[scope] {}: invalid glob: {}", scope.as_str(), e.kind())
                    })?;
                out.push((glob.compile_matcher(), scope));
            }
        }
        Ok(Overrides(out))
    }

    /// The scope of a path: the first `[scope]` glob that matches it (or a
    /// folder above it), else the convention.
    pub fn scope_of(&self, rel: &str) -> Scope {
        for (g, s) in &self.0 {
            let mut p = rel;
            loop {
                if g.is_match(p) {
                    return *s;
                }
                match p.rsplit_once('/') {
                    Some((d, _)) => p = d,
                    None => break,
                }
            }
        }
        by_convention(rel)
    }
}

/// Which scopes a command looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl Default for ScopeSet {
    fn default() -> Self {
        ScopeSet(vec![Scope::Production])
    }
}

impl ScopeSet {
    pub fn all() -> ScopeSet {
        ScopeSet(Scope::ALL.to_vec())
    }

    /// `--scope production|all` and `--include a,b`: production (or all)
    /// plus the named scopes.
    pub fn from_args(all: bool, include: &[String]) -> Result<ScopeSet, String> {
        if all {
            return Ok(ScopeSet::all());
        }
        let mut v = vec![Scope::Production];
        for name in include.iter().flat_map(|s| s.split(',')) {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let s = Scope::parse(name).ok_or_else(|| {
                format!(
                    "--include: unknown scope {name:?} (one of {})",
                    Scope::ALL.map(Scope::as_str).join(", ")
                )
            })?;
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v.sort();
        Ok(ScopeSet(v))
    }

    pub fn contains(&self, s: Scope) -> bool {
        self.0.contains(&s)
    }

    pub fn is_all(&self) -> bool {
        self.0.len() == Scope::ALL.len()
    }
}

/// What a restriction to a [`ScopeSet`] left out: files per scope, and Rust
/// test items (`#[cfg(test)]` modules, `#[test]` functions) in files kept.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct LeftOut {
    pub files: std::collections::BTreeMap<&'static str, usize>,
    pub test_items: usize,
}

impl LeftOut {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.test_items == 0
    }

    /// `41 test files, 3 example files and 12 Rust test items`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .files
            .iter()
            .map(|(s, n)| format!("{n} {s} file{}", if *n == 1 { "" } else { "s" }))
            .collect();
        if self.test_items > 0 {
            parts.push(format!(
                "{} test item{}",
                self.test_items,
                if self.test_items == 1 { "" } else { "s" }
            ));
        }
        match parts.len() {
            0 => String::new(),
            1 => parts.remove(0),
            _ => {
                let last = parts.pop().unwrap_or_default();
                format!("{} and {last}", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions() {
        for (p, s) in [
            ("app/views.py", Scope::Production),
            ("tests/test_views.py", Scope::Test),
            ("app/tests/helpers.py", Scope::Test),
            ("app/test_views.py", Scope::Test),
            ("app/views_test.py", Scope::Test),
            ("conftest.py", Scope::Test),
            ("app/tests.py", Scope::Test),
            ("examples/app.py", Scope::Example),
            ("examples/app/tests/x.py", Scope::Example),
            ("docs/scripts/gen.py", Scope::Docs),
            ("bookmarks/settings/dev.py", Scope::Development),
            ("config/settings/local.py", Scope::Development),
            ("proj/settings_dev.py", Scope::Development),
            ("settings/local_dev.py", Scope::Development),
            ("settings/prod_local.py", Scope::Production),
            ("proj/settings/test.py", Scope::Test),
            ("proj/settings/prod.py", Scope::Production),
            ("proj/settings/base.py", Scope::Production),
            ("proj/dev.py", Scope::Production),
            ("benches/extract.rs", Scope::Benchmark),
            ("setup.py", Scope::Build),
            ("build.rs", Scope::Build),
            ("crates/api/build.rs", Scope::Build),
            ("pkg/setup.py", Scope::Production),
            ("third_party/x/y.py", Scope::Vendored),
            ("src/testing_utils.py", Scope::Production),
            ("src/contest.py", Scope::Production),
            // Workflows run in CI whatever their names say.
            (".github/workflows/test_python.yml", Scope::Production),
            (".github/workflows/docs.yaml", Scope::Production),
        ] {
            assert_eq!(by_convention(p), s, "{p}");
        }
    }

    #[test]
    fn overrides_win_and_match_folders() {
        let c = ScopeConfig {
            production: vec!["examples/server".into()],
            test: vec!["qa/**".into()],
            ..Default::default()
        };
        let o = Overrides::new(&c).unwrap();
        assert_eq!(o.scope_of("examples/server/app.py"), Scope::Production);
        assert_eq!(o.scope_of("examples/other/app.py"), Scope::Example);
        assert_eq!(o.scope_of("qa/load.py"), Scope::Test);
    }

    #[test]
    fn scope_sets() {
        let s = ScopeSet::from_args(false, &["test,example".into()]).unwrap();
        assert!(s.contains(Scope::Test) && s.contains(Scope::Production));
        assert!(!s.contains(Scope::Docs));
        assert!(ScopeSet::from_args(false, &["nope".into()]).is_err());
        assert!(ScopeSet::from_args(true, &[]).unwrap().is_all());
    }
}
