//! Embeds every `rules/frameworks/*.toml` in the binary: adding a framework
//! is a new file there, with no change to the Rust code.
use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new("rules/frameworks");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("rules/frameworks exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        // Relative to the crate being compiled, not an absolute path: two
        // checkouts sharing one target directory (CI's pre-commit build
        // reuses it) must not compile each other's files.
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/rules/frameworks/\", {name:?}))),"
        );
    }
    out.push(']');
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("frameworks.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
