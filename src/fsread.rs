//! The one checked reader for files named by a repository, a document or
//! the command line: regular files only (no FIFOs, sockets or devices, which
//! could block or never end), size-capped before and while reading, never
//! through a symbolic link, optionally confined to a root directory. Errors
//! name the path and the reason, never the contents.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    Missing,
    /// A symbolic link: not followed.
    Symlink,
    /// A directory, FIFO, socket or device.
    NotRegular(&'static str),
    /// Larger than the cap (bytes).
    TooLarge(u64),
    /// Resolves outside the directory it must stay in.
    Outside,
    NotUtf8,
    Io(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Missing => f.write_str("no such file"),
            ReadError::Symlink => f.write_str("symbolic link (not followed)"),
            ReadError::NotRegular(k) => write!(f, "not a regular file ({k})"),
            ReadError::TooLarge(cap) => {
                write!(f, "larger than {}", crate::walk::human_size(*cap))
            }
            ReadError::Outside => f.write_str("outside the repository"),
            ReadError::NotUtf8 => f.write_str("not valid UTF-8"),
            ReadError::Io(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for ReadError {}

/// What kind of non-regular file this is, for messages.
pub fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "FIFO";
        }
        if ft.is_socket() {
            return "socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "device";
        }
    }
    if ft.is_dir() {
        "directory"
    } else if ft.is_symlink() {
        "symbolic link"
    } else if ft.is_file() {
        "file"
    } else {
        "special file"
    }
}

fn io(e: &std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(crate::walk::plain_io(e)),
    }
}

/// Is `path` inside `root` once both are resolved (`..` and linked
/// directories included)?
pub fn within(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(r), Ok(p)) => p.starts_with(r),
        _ => false,
    }
}

/// Read a regular file of at most `cap` bytes. With `confine`, the file must
/// resolve inside that directory.
pub fn read(path: &Path, cap: u64, confine: Option<&Path>) -> Result<Vec<u8>, ReadError> {
    read_impl(path, cap, confine, false)
}

/// [`read`] for a file the user named on the command line (a document, a
/// baseline): a symbolic link is followed, but what it leads to must still
/// be a regular file of at most `cap` bytes.
pub fn read_given(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    read_impl(path, cap, None, true)
}

fn read_impl(
    path: &Path,
    cap: u64,
    confine: Option<&Path>,
    follow: bool,
) -> Result<Vec<u8>, ReadError> {
    let meta = if follow {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(|e| io(&e))?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        return Err(ReadError::Symlink);
    }
    if !ft.is_file() {
        return Err(ReadError::NotRegular(kind_of(&ft)));
    }
    if let Some(root) = confine {
        if !within(root, path) {
            return Err(ReadError::Outside);
        }
    }
    if meta.len() > cap {
        return Err(ReadError::TooLarge(cap));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The checks above and the open are not atomic: a file swapped for a
        // link or a FIFO in between is refused here, without blocking.
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        opts.custom_flags(nofollow | libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| io(&e))?;
    let meta = file.metadata().map_err(|e| io(&e))?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(&meta.file_type())));
    }
    let mut out = Vec::with_capacity(meta.len().min(cap) as usize);
    file.take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| io(&e))?;
    if out.len() as u64 > cap {
        return Err(ReadError::TooLarge(cap));
    }
    Ok(out)
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path, cap: u64, confine: Option<&Path>) -> Result<String, ReadError> {
    String::from_utf8(read(path, cap, confine)?).map_err(|_| ReadError::NotUtf8)
}

/// `cannot read PATH: REASON`, the one-line message for a failed read.
pub fn message(what: &str, path: &Path, e: &ReadError) -> String {
    format!("cannot read {what}{}: {e}", path.display())
}

/// A repository-relative path joined to the root, refused when it is
/// absolute or climbs out with `..` (checked again on reading by [`within`]).
pub fn join_confined(root: &Path, rel: &Path) -> Result<PathBuf, ReadError> {
    use std::path::Component;
    let mut depth: i64 = 0;
    for c in rel.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(ReadError::Outside);
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(ReadError::Outside),
        }
    }
    Ok(root.join(rel))
}

/// The byte offset `at` of `text` as 1-based (line, column), for messages
/// that must point at a place without quoting it.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text.as_bytes()[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

/// A TOML parse error as `line L, column C: message`, without the source
/// excerpt the parser's own message includes.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(s) => {
            let (l, c) = line_col(text, s.start);
            format!("line {l}, column {c}: {}", e.message().trim())
        }
        None => e.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confined_joins_refuse_absolute_and_climbing_paths() {
        let root = Path::new("/repo");
        assert!(join_confined(root, Path::new("a/../b.toml")).is_ok());
        assert_eq!(
            join_confined(root, Path::new("../x")),
            Err(ReadError::Outside)
        );
        assert_eq!(
            join_confined(root, Path::new("/etc/passwd")),
            Err(ReadError::Outside)
        );
    }

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("x", 0), (1, 1));
    }
}
