//! Repository walk: `.gitignore`/`.ignore` respected, hidden directories
//! skipped, `--exclude` globs, symlinks never followed (so nothing outside the
//! root is read), files over the size cap and non-UTF-8 files skipped with a reason.

use crate::lang::Lang;
use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq, PartialOrd, Ord)]
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

/// One source file found by the walk: (repo-relative path with `/`,
/// absolute path, language).
pub type Found = (String, PathBuf, Lang);

/// Walk `root`: every source file, package manifest and skipped entry,
/// files sorted by path.
pub fn walk(root: &Path, excludes: &[String], max_size: u64) -> Result<Walked, WalkError> {
    let mut files = vec![];
    let mut walked = prepare(root, excludes, max_size)?.run(|f| files.push(f));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    walked.files = files;
    Ok(walked)
}

/// A walk checked and ready to run: what cannot be walked at all (a
/// missing root, an invalid `--exclude`) is an error here, before any file
/// is visited.
pub struct Walker {
    root: PathBuf,
    max_size: u64,
    how: How,
}

enum How {
    /// A single file: its directory is the root; found or skipped already.
    File(Option<Found>, Vec<Skipped>),
    Dir(Box<WalkBuilder>, std::sync::Arc<std::sync::Mutex<Ignores>>),
}

/// Check `root` and the `--exclude` globs and set the walk up.
pub fn prepare(root: &Path, excludes: &[String], max_size: u64) -> Result<Walker, WalkError> {
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
    if meta.is_file() {
        // A single file: its directory is the root.
        let name = root.file_name().map(escape_name).unwrap_or_default();
        let how = match Lang::from_path(root) {
            Some(l) if meta.len() <= max_size => {
                How::File(Some((name, root.to_path_buf(), l)), vec![])
            }
            Some(_) => How::File(
                None,
                vec![Skipped {
                    file: name,
                    reason: too_big(max_size),
                }],
            ),
            None => {
                return Err(WalkError(format!(
                    "{} is not a Python or Rust file",
                    root.display()
                )))
            }
        };
        return Ok(Walker {
            root: root.to_path_buf(),
            max_size,
            how,
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
    // Ignore files are read by `Ignores` through the checked reader (the
    // walker's own reading would block on a FIFO named `.gitignore`).
    let ignores = std::sync::Arc::new(std::sync::Mutex::new(Ignores::new(root)));
    let filter = ignores.clone();
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .git_ignore(false)
        .git_exclude(false)
        .git_global(false)
        .ignore(false)
        .parents(false)
        .require_git(false)
        .follow_links(false)
        .overrides(overrides)
        .filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            let mut ig = filter.lock().unwrap_or_else(|p| p.into_inner());
            !ig.ignored(e.path(), is_dir)
        });
    Ok(Walker {
        root: root.to_path_buf(),
        max_size,
        how: How::Dir(Box::new(builder), ignores),
    })
}

impl Walker {
    /// Run the walk, handing each source file to `found` as it is met (in
    /// no particular order); manifests and skipped entries come back
    /// sorted, with `files` left empty.
    pub fn run(self, mut found: impl FnMut(Found)) -> Walked {
        let (builder, ignores) = match self.how {
            How::File(file, skipped) => {
                file.into_iter().for_each(found);
                return Walked {
                    files: vec![],
                    manifests: vec![],
                    skipped,
                };
            }
            How::Dir(b, i) => (b, i),
        };
        let (root, max_size) = (self.root.as_path(), self.max_size);
        let mut manifests = vec![];
        let mut skipped = vec![];
        for entry in builder.build() {
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
                    // The reason without the path (the error's own text names it
                    // absolutely, which would tie the output to the checkout).
                    skipped.push(Skipped {
                        file: rel,
                        reason: walk_error(root, &e).1,
                    });
                    continue;
                }
                _ => {}
            }
            if manifest.is_some() {
                manifests.push((rel, path.to_path_buf(), lang));
            } else {
                found((rel, path.to_path_buf(), lang));
            }
        }
        skipped.append(&mut ignores.lock().unwrap_or_else(|p| p.into_inner()).problems);
        manifests.sort_by(|a, b| a.0.cmp(&b.0));
        skipped.sort();
        Walked {
            files: vec![],
            manifests,
            skipped,
        }
    }
}

/// `.gitignore` and `.ignore` files of the walked tree (and the root's
/// `.git/info/exclude`), read through [`crate::fsread`]: regular files only,
/// size-capped, never through a link. One that cannot be read is reported
/// with its name and the walk goes on without it.
struct Ignores {
    root: PathBuf,
    /// Per directory: the matchers of its ignore files and of those of the
    /// directories above it up to the root, nearest first (each directory's
    /// files read once). One lookup an entry, where asking every ancestor
    /// hashed and compared a path per level.
    chains: rustc_hash::FxHashMap<PathBuf, Chain>,
    problems: Vec<Skipped>,
}

type Chain = std::sync::Arc<[std::sync::Arc<ignore::gitignore::Gitignore>]>;

impl Ignores {
    fn new(root: &Path) -> Ignores {
        Ignores {
            root: root.to_path_buf(),
            chains: Default::default(),
            problems: vec![],
        }
    }

    /// The matcher of one directory's ignore files (None when it has none).
    fn load(&mut self, dir: &Path) -> Option<ignore::gitignore::Gitignore> {
        use ignore::gitignore::GitignoreBuilder;
        let mut b = GitignoreBuilder::new(dir);
        let mut any = false;
        let mut names = vec![];
        // A `.git` that is a file (a worktree's or a submodule's, naming
        // the git directory elsewhere) has no `info/exclude` under it.
        if dir == self.root && std::fs::symlink_metadata(dir.join(".git")).is_ok_and(|m| m.is_dir())
        {
            names.push(".git/info/exclude");
        }
        // Later files take precedence: `.ignore` over `.gitignore`.
        names.extend([".gitignore", ".ignore"]);
        for name in names {
            let path = dir.join(name);
            match crate::fsread::read(&path, crate::rules::MAX_CONFIG_SIZE, None) {
                Ok(bytes) => {
                    any = true;
                    for line in String::from_utf8_lossy(&bytes).lines() {
                        // A bad pattern is skipped, like git does.
                        let _ = b.add_line(Some(path.clone()), line);
                    }
                }
                Err(crate::fsread::ReadError::Missing) => {}
                Err(crate::fsread::ReadError::NotRegular("directory")) if name != ".ignore" => {}
                Err(e) => self.problems.push(Skipped {
                    file: rel_path(&self.root, &path),
                    reason: format!("ignore file not read: {e}"),
                }),
            }
        }
        if !any {
            return None;
        }
        b.build().ok()
    }

    /// Is `path` ignored by the ignore files of the directories above it
    /// (the nearest file that decides wins, as in git), or hidden (a name
    /// starting with `.`) and not explicitly kept by one of them?
    fn ignored(&mut self, path: &Path, is_dir: bool) -> bool {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.as_encoded_bytes().first() == Some(&b'.'));
        match self.decided(path, is_dir) {
            Some(ignored) => ignored,
            None => hidden && path != self.root,
        }
    }

    fn decided(&mut self, path: &Path, is_dir: bool) -> Option<bool> {
        use ignore::Match;
        if path == self.root {
            return Some(false);
        }
        let parent = path.parent()?;
        for g in self.chain(parent).iter() {
            match g.matched(path, is_dir) {
                Match::Ignore(_) => return Some(true),
                Match::Whitelist(_) => return Some(false),
                Match::None => {}
            }
        }
        None
    }

    /// The matchers that decide for entries of `dir`, nearest first (empty
    /// outside the root). Built from the nearest known chain above, without
    /// recursion.
    fn chain(&mut self, dir: &Path) -> Chain {
        if let Some(c) = self.chains.get(dir) {
            return c.clone();
        }
        let mut todo: Vec<PathBuf> = vec![];
        let mut base: Chain = std::sync::Arc::from(Vec::new());
        for d in dir.ancestors() {
            if !d.starts_with(&self.root) {
                break;
            }
            if let Some(c) = self.chains.get(d) {
                base = c.clone();
                break;
            }
            todo.push(d.to_path_buf());
        }
        for d in todo.into_iter().rev() {
            let own = self.load(&d).map(std::sync::Arc::new);
            let c: Chain = own.into_iter().chain(base.iter().cloned()).collect();
            self.chains.insert(d, c.clone());
            base = c;
        }
        base
    }
}

fn too_big(max: u64) -> String {
    format!("larger than {}", human_size(max))
}

pub fn human_size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// A repository-relative path with `/` separators, kept exactly: a byte
/// that is not part of valid UTF-8 is written `%XX`, and so is `%` itself
/// (`%25`), so two different names never print alike.
pub fn rel_path(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    r.components()
        .map(|c| escape_name(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// The file a [`rel_path`] names under `root`: `%XX` turned back into the
/// byte it stands for.
pub fn abs_path(root: &Path, rel: &str) -> PathBuf {
    if !rel.contains('%') {
        return root.join(rel);
    }
    let b = rel.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        root.join(std::ffi::OsStr::from_bytes(&out))
    }
    #[cfg(not(unix))]
    {
        root.join(String::from_utf8_lossy(&out).as_ref())
    }
}

/// The repository a scanned root belongs to, and the root's path from it
/// (`""` when they are the same), for locations that must be relative to the
/// repository (SARIF for GitHub): `explicit` (`--root`) if given, else the
/// nearest enclosing git work tree, else the current directory when the
/// scanned root is inside it, else the scanned root itself.
pub fn repository_root(scanned: &Path, explicit: Option<&Path>) -> (PathBuf, String) {
    // A bare file name's directory is the empty path: the current one.
    let scanned = if scanned.as_os_str().is_empty() {
        Path::new(".")
    } else {
        scanned
    };
    let root = scanned
        .canonicalize()
        .unwrap_or_else(|_| scanned.to_path_buf());
    let repo = explicit
        .and_then(|e| e.canonicalize().ok())
        .filter(|e| root.starts_with(e))
        .or_else(|| {
            root.ancestors()
                .find(|a| a.join(".git").exists())
                .map(Path::to_path_buf)
        })
        .or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|c| c.canonicalize().ok())
                .filter(|c| root.starts_with(c))
        })
        .unwrap_or_else(|| root.clone());
    let prefix = rel_path(&repo, &root);
    (repo, prefix)
}

/// One file name as text, escaped as [`rel_path`] describes.
pub fn escape_name(name: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes()
    };
    #[cfg(not(unix))]
    let lossy = name.to_string_lossy();
    #[cfg(not(unix))]
    let bytes = lossy.as_bytes();
    if !bytes.contains(&b'%') {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return s.to_string();
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for part in chunk.valid().split_inclusive('%') {
            match part.strip_suffix('%') {
                Some(head) => {
                    out.push_str(head);
                    out.push_str("%25");
                }
                None => out.push_str(part),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
                // The walker's I/O errors name the path absolutely in their
                // text; the reason keeps only what went wrong.
                let what = match io.raw_os_error() {
                    Some(code) => plain_io(&std::io::Error::from_raw_os_error(code)),
                    None => {
                        let kind = io.kind().to_string();
                        let mut c = kind.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect())
                            .unwrap_or(kind)
                    }
                };
                return (path.unwrap_or_default(), format!("unreadable: {what}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file the walker cannot stat is reported by its repository path, and
    /// the reason never repeats the absolute path the walker's error text
    /// carries (the output would depend on where the checkout lives).
    #[test]
    fn walk_errors_name_the_file_relatively_and_no_path_in_the_reason() {
        let root = Path::new("/srv/checkout");
        let abs = root.join("api/admin.py");
        let with_text = std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "IO error for operation on {}: Permission denied",
                abs.display()
            ),
        );
        for io in [with_text, std::io::Error::from_raw_os_error(13)] {
            let e = ignore::Error::WithPath {
                path: abs.clone(),
                err: Box::new(ignore::Error::Io(io)),
            };
            let (file, reason) = walk_error(root, &e);
            assert_eq!(file, "api/admin.py");
            assert_eq!(reason, "unreadable: Permission denied");
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_are_escaped_losslessly_and_found_again() {
        use std::os::unix::ffi::OsStrExt;
        let names: [&[u8]; 5] = [
            b"a\xff.py",
            b"a\xfe.py",
            b"a%FF.py",
            b"100%.py",
            b"plain.py",
        ];
        let escaped: Vec<String> = names
            .iter()
            .map(|n| escape_name(std::ffi::OsStr::from_bytes(n)))
            .collect();
        assert_eq!(
            escaped,
            ["a%FF.py", "a%FE.py", "a%25FF.py", "100%25.py", "plain.py"]
        );
        for (n, e) in names.iter().zip(&escaped) {
            let back = abs_path(Path::new("/r"), e);
            assert_eq!(back.as_os_str().as_bytes(), [b"/r/", *n].concat());
        }
    }
}
