//! Rust: module naming from `Cargo.toml` manifests and the file layout,
//! name syntax and the language's semantics that the generic passes ask about.

use super::{ImportStyle, Syntax};
use std::collections::BTreeMap;

pub const SYNTAX: Syntax = Syntax {
    extensions: &["rs"],
    sep: "::",
    symbol_sep: "::",
    head_ends: b".:",
    relative_heads: &["crate", "self", "super"],
    standard_library: &["std", "core", "alloc"],
    receiver_params: &["self"],
    receivers: &["self.", "Self::"],
    methods_nested: false,
    decorators_wrap: false,
    explicit_errors: true,
    line_comment: "//",
    child_modules_by_name: true,
    function_paths: false,
    builder_values: true,
    objects_by_assignment: false,
    builder_chains: true,
    injected_dependencies: false,
    typed_extractors: true,
    constructor_functions: false,
    concat_macros: &["concat"],
    concat_methods: &["concat"],
    imports: ImportStyle::Paths,
    manifest: Some("Cargo.toml"),
    package_markers: &[],
    file_module_names: &["mod", "main", "lib"],
};

/// The package name a `Cargo.toml` declares, as code names it (`-` → `_`).
pub fn manifest_name(text: &str) -> Option<String> {
    let v: toml::Value = toml::from_str(text).ok()?;
    Some(v.get("package")?.get("name")?.as_str()?.replace('-', "_"))
}

/// Rust module path: crate name from the nearest manifest (by directory,
/// `""` for the root), `src/main.rs`/`src/lib.rs` = crate root,
/// `src/a/mod.rs` and `src/a.rs` = `crate::a`.
pub fn module_name(path: &str, manifests: &BTreeMap<String, String>) -> String {
    let mut dir = std::path::Path::new(path).parent();
    let mut krate: Option<(String, String)> = None;
    while let Some(d) = dir {
        let key = d.to_string_lossy();
        if let Some(name) = manifests.get(key.as_ref()) {
            krate = Some((key.to_string(), name.clone()));
            break;
        }
        dir = d.parent();
    }
    let (base, name) = krate.unwrap_or_else(|| (String::new(), "crate".to_string()));
    let rel = if base.is_empty() {
        path
    } else {
        path.strip_prefix(&format!("{base}/")).unwrap_or(path)
    };
    let rel = rel.strip_prefix("src/").unwrap_or(rel);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut segs: Vec<&str> = rel.split('/').collect();
    if segs
        .last()
        .is_some_and(|s| SYNTAX.file_module_names.contains(s))
    {
        segs.pop();
    }
    let mut out = name;
    for s in segs {
        if !s.is_empty() {
            out.push_str("::");
            out.push_str(s);
        }
    }
    out
}
