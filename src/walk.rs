//! Repository walk: `.gitignore`/`.ignore` respected, hidden directories
//! skipped, `--exclude` globs, symlinks never followed (so nothing outside the
//! root is read), files over the size cap and non-UTF-8 files skipped with a reason.

use crate::lang::Lang;
use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

pub struct Walked {
    /// (repo-relative path with `/`, absolute path, language), sorted by path.
    pub files: Vec<(String, PathBuf, Lang)>,
    /// Package manifests (`Cargo.toml`): (repo-relative path, absolute path, language).
    pub manifests: Vec<(String, PathBuf, Lang)>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug)]
pub struct WalkError(pub String);

pub fn walk(root: &Path, excludes: &[String], max_size: u64) -> Result<Walked, WalkError> {
    let meta = std::fs::metadata(root)
        .map_err(|e| WalkError(format!("cannot read {}: {}", root.display(), plain_io(&e))))?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(WalkError(format!(
            "{} is not a directory or a regular file ({})",
            root.display(),
            crate::fsread::kind_of(&meta.file_type())
        )));
    }
    if meta.is_dir() {
        // A root that cannot be listed is an error, not an empty repository.
        std::fs::read_dir(root)
            .map_err(|e| WalkError(format!("cannot read {}: {}", root.display(), plain_io(&e))))?;
    }
    let mut files = vec![];
    let mut manifests = vec![];
    let mut skipped = vec![];
    if meta.is_file() {
        // A single file: its directory is the root.
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        match Lang::from_path(root) {
            Some(l) if meta.len() <= max_size => files.push((name, root.to_path_buf(), l)),
            Some(_) => skipped.push(Skipped {
                file: name,
                reason: too_big(max_size),
            }),
            None => {
                return Err(WalkError(format!(
                    "{} is not a Python or Rust file",
                    root.display()
                )))
            }
        }
        return Ok(Walked {
            files,
            manifests: vec![],
            skipped,
        });
    }
    let mut ob = OverrideBuilder::new(root);
    for g in excludes {
        ob.add(&format!("!{g}"))
            .map_err(|e| WalkError(format!("invalid --exclude glob {g:?}: {e}")))?;
    }
    let overrides = ob
        .build()
        .map_err(|e| WalkError(format!("invalid --exclude: {e}")))?;
    let walker = WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .ignore(true)
        .parents(false)
        .require_git(false)
        .follow_links(false)
        .overrides(overrides)
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let (file, msg) = walk_error(root, &e);
                skipped.push(Skipped { file, reason: msg });
                continue;
            }
        };
        let path = entry.path();
        let Some(ft) = entry.file_type() else {
            continue;
        };
        // FIFOs, sockets and devices are never read (a FIFO would block),
        // and are reported whatever their name.
        if !ft.is_file() && !ft.is_dir() && !ft.is_symlink() {
            skipped.push(Skipped {
                file: rel_path(root, path),
                reason: format!("not a regular file ({})", crate::fsread::kind_of(&ft)),
            });
            continue;
        }
        let manifest = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(Lang::of_manifest);
        let Some(lang) = Lang::from_path(path).or(manifest) else {
            continue;
        };
        let rel = rel_path(root, path);
        if ft.is_symlink() {
            skipped.push(Skipped {
                file: rel,
                reason: "symbolic link (not followed)".into(),
            });
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        match entry.metadata() {
            Ok(m) if m.len() > max_size => {
                skipped.push(Skipped {
                    file: rel,
                    reason: too_big(max_size),
                });
                continue;
            }
            Err(e) => {
                skipped.push(Skipped {
                    file: rel,
                    reason: format!("unreadable: {e}"),
                });
                continue;
            }
            _ => {}
        }
        if manifest.is_some() {
            manifests.push((rel, path.to_path_buf(), lang));
        } else {
            files.push((rel, path.to_path_buf(), lang));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    manifests.sort_by(|a, b| a.0.cmp(&b.0));
    skipped.sort();
    Ok(Walked {
        files,
        manifests,
        skipped,
    })
}

fn too_big(max: u64) -> String {
    format!("larger than {}", human_size(max))
}

pub fn human_size(n: u64) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n % (1 << 10) == 0 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

pub fn rel_path(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    r.components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect::<Vec<_>>()
        .join("/")
}

fn walk_error(root: &Path, e: &ignore::Error) -> (String, String) {
    let mut cur = e;
    let mut path = None;
    loop {
        match cur {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(rel_path(root, p));
                cur = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                cur = err
            }
            ignore::Error::Io(io) => {
                return (
                    path.unwrap_or_default(),
                    format!("unreadable: {}", plain_io(io)),
                )
            }
            other => return (path.unwrap_or_default(), format!("walk error: {other}")),
        }
    }
}

/// `Permission denied` instead of `Permission denied (os error 13)`.
pub fn plain_io(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
