//! Python: module naming, name syntax and the language's semantics that the
//! generic passes ask about.

use super::{ImportStyle, Syntax};
use rustc_hash::FxHashSet;

pub const SYNTAX: Syntax = Syntax {
    extensions: &["py", "pyi"],
    sep: ".",
    symbol_sep: ":",
    head_ends: b".",
    relative_heads: &[],
    standard_library: &[],
    receiver_params: &["self", "cls"],
    receivers: &["self.", "cls."],
    methods_nested: true,
    decorators_wrap: true,
    explicit_errors: false,
    line_comment: "#",
    child_modules_by_name: false,
    function_paths: true,
    builder_values: false,
    objects_by_assignment: true,
    builder_chains: false,
    injected_dependencies: true,
    typed_extractors: false,
    constructor_functions: true,
    concat_macros: &[],
    concat_methods: &[],
    imports: ImportStyle::Dotted,
    manifest: None,
    package_markers: &["__init__.py", "__init__.pyi"],
    file_module_names: &[],
};

/// Module names of a Python file: the package-based name (walking up through
/// `__init__.py`) first when the file sits in a package, and the path-based
/// name (leading `src/` dropped).
pub fn module_names(path: &str, paths: &FxHashSet<&str>) -> Vec<String> {
    let no_ext = path
        .strip_suffix(".py")
        .or_else(|| path.strip_suffix(".pyi"))
        .unwrap_or(path);
    let mut parts: Vec<&str> = no_ext.split('/').collect();
    if parts.last() == Some(&"__init__") {
        parts.pop();
    }
    let path_based = {
        let p = if parts.first() == Some(&"src") && parts.len() > 1 {
            &parts[1..]
        } else {
            &parts[..]
        };
        p.join(".")
    };
    // Package-based: keep the trailing directories that are packages.
    let dirs: Vec<&str> = path.split('/').collect();
    let dirs = &dirs[..dirs.len() - 1];
    let mut keep = 0;
    for i in (0..dirs.len()).rev() {
        let d = dirs[..=i].join("/");
        if SYNTAX
            .package_markers
            .iter()
            .any(|m| paths.contains(format!("{d}/{m}").as_str()))
        {
            keep += 1;
        } else {
            break;
        }
    }
    let mut out = vec![];
    if keep > 0 || dirs.is_empty() {
        let start = dirs.len() - keep;
        let mut p: Vec<&str> = dirs[start..].to_vec();
        let stem = no_ext.rsplit('/').next().unwrap_or(no_ext);
        if stem != "__init__" {
            p.push(stem);
        }
        out.push(p.join("."));
    }
    if !out.contains(&path_based) {
        out.push(path_based);
    }
    out.retain(|m| !m.is_empty());
    if out.is_empty() {
        out.push(String::new());
    }
    out
}

/// The most indentation levels a file may nest. tree-sitter-python's
/// external scanner keeps its indentation stack in a 1,024-byte state buffer
/// (two bytes a level, plus open string delimiters) and aborts the process
/// (an assertion) when it overflows, at about 380 levels; no real code comes
/// near either number.
pub const MAX_INDENT_LEVELS: usize = 256;

/// Refuse a file nested deeper than [`MAX_INDENT_LEVELS`] indentation
/// levels, counted from its lines' leading whitespace (an over-estimate:
/// continuation lines count too, so the real stack is never deeper).
pub fn precheck(src: &[u8]) -> Result<(), String> {
    let mut stack: Vec<usize> = vec![0];
    // Lines found with memchr (a byte-at-a-time split was 0.7% of the CPU
    // of `facts`); the same pieces as splitting at every `\n` and `\r`.
    let mut start = 0;
    let ends = memchr::memchr2_iter(b'\n', b'\r', src).chain(std::iter::once(src.len()));
    for end in ends {
        let line = &src[start..end];
        start = end + 1;
        let mut width = 0usize;
        let mut rest = line;
        while let Some((&b, r)) = rest.split_first() {
            match b {
                b' ' => width += 1,
                b'\t' => width = (width / 8 + 1) * 8,
                b'\x0c' => width = 0,
                _ => break,
            }
            rest = r;
        }
        if rest.is_empty() || rest[0] == b'#' {
            continue;
        }
        while stack.len() > 1 && width < *stack.last().unwrap_or(&0) {
            stack.pop();
        }
        if width > *stack.last().unwrap_or(&0) {
            stack.push(width);
            if stack.len() > MAX_INDENT_LEVELS {
                return Err(format!(
                    "indentation nested deeper than {MAX_INDENT_LEVELS} levels"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `levels` lines, each indented one space more than the last, ended by
    /// `sep` (none after the last).
    fn nested(levels: usize, sep: &str) -> Vec<u8> {
        (0..levels)
            .map(|i| format!("{}x", " ".repeat(i)))
            .collect::<Vec<_>>()
            .join(sep)
            .into_bytes()
    }

    #[test]
    fn indentation_levels_are_counted_across_every_line_ending() {
        for sep in ["\n", "\r\n", "\r"] {
            assert!(precheck(&nested(MAX_INDENT_LEVELS, sep)).is_ok(), "{sep:?}");
            // The deepest line is the last, with no line end after it.
            assert!(
                precheck(&nested(MAX_INDENT_LEVELS + 1, sep)).is_err(),
                "{sep:?}"
            );
        }
        // Blank and comment lines do not count.
        let mut src = nested(MAX_INDENT_LEVELS, "\n\n# c\n");
        assert!(precheck(&src).is_ok());
        src.extend_from_slice(b"\n");
        src.extend_from_slice(" ".repeat(MAX_INDENT_LEVELS).as_bytes());
        src.extend_from_slice(b"# deeper comment\n\n");
        assert!(precheck(&src).is_ok());
        assert!(precheck(b"").is_ok());
    }
}
