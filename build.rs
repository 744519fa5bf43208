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
    build_id();
}

/// `THREATSCAN_BUILD_ID`: a hash of the sources, queries, rules and locked
/// dependencies the binary is built from. The extraction cache keys its
/// entries with it, so that a binary never reuses what another one extracted.
fn build_id() {
    use std::hash::{Hash, Hasher};
    let mut files = vec![std::path::PathBuf::from("Cargo.lock")];
    let mut dirs = vec![
        std::path::PathBuf::from("src"),
        std::path::PathBuf::from("queries"),
        std::path::PathBuf::from("rules"),
    ];
    while let Some(d) = dirs.pop() {
        println!("cargo:rerun-if-changed={}", d.display());
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        f.to_string_lossy().hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=THREATSCAN_BUILD_ID={:016x}", h.finish());
}
