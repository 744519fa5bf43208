//! Renderers and output files.

use crate::facts::Fact;
use crate::walk::Skipped;
use crate::Stats;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

#[derive(Serialize)]
pub struct FactsReport<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub stats: &'a Stats,
    pub skipped: &'a [Skipped],
    pub facts: &'a [Fact],
}

pub fn facts_json(stats: &Stats, skipped: &[Skipped], facts: &[Fact]) -> String {
    let r = FactsReport {
        tool: "threatscan",
        version: env!("CARGO_PKG_VERSION"),
        stats,
        skipped,
        facts,
    };
    let mut s = serde_json::to_string_pretty(&r).unwrap_or_default();
    s.push('\n');
    s
}

const KIND_ORDER: &[&str] = &[
    "route",
    "auth_guard",
    "rate_limiter",
    "process_exec",
    "deserialization",
    "yaml_load",
    "file_io",
    "network_out",
    "secret",
];

/// Facts grouped by kind, one line each with its location.
pub fn facts_text(stats: &Stats, skipped: &[Skipped], facts: &[Fact]) -> String {
    let mut out = String::new();
    let mut kinds: Vec<&str> = facts.iter().map(|f| f.kind).collect();
    kinds.sort_by_key(|k| (KIND_ORDER.iter().position(|x| x == k).unwrap_or(99), *k));
    kinds.dedup();
    for k in kinds {
        let group: Vec<&Fact> = facts.iter().filter(|f| f.kind == k).collect();
        out.push_str(&format!("{k} ({})\n", group.len()));
        for f in group {
            // Code outside production is marked: `[test]`, `[example]`, …
            let scope = if f.scope.is_empty() || f.scope == "production" {
                String::new()
            } else {
                format!("  [{}]", f.scope)
            };
            out.push_str(&format!(
                "  {}:{}:{}  {}{scope}\n",
                f.file,
                f.line,
                f.column,
                describe(f)
            ));
        }
        out.push('\n');
    }
    if !skipped.is_empty() {
        out.push_str(&format!("skipped ({})\n", skipped.len()));
        for s in skipped {
            out.push_str(&format!("  {}  {}\n", s.file, s.reason));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} files scanned, {} skipped, {} facts\n",
        stats.files_scanned,
        stats.files_skipped,
        facts.len()
    ));
    out
}

fn names(v: &Option<Vec<crate::facts::GuardRef>>) -> String {
    match v {
        Some(v) if !v.is_empty() => v
            .iter()
            .map(|g| g.symbol.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => "none".into(),
    }
}

fn describe(f: &Fact) -> String {
    match f.kind {
        "route" => format!(
            "{} {} -> {} [{}] auth: {}; rate limit: {}",
            f.methods.as_deref().unwrap_or_default().join(","),
            f.pattern.as_deref().unwrap_or(""),
            f.handler.as_deref().unwrap_or(""),
            f.framework.as_deref().unwrap_or(""),
            names(&f.auth),
            names(&f.rate_limit)
        ),
        "auth_guard" | "rate_limiter" => format!(
            "{} ({}) via {}: {}{}",
            f.symbol.as_deref().unwrap_or(""),
            f.name.as_deref().unwrap_or(""),
            f.via.as_deref().unwrap_or(""),
            f.reason.as_deref().unwrap_or(""),
            if f.applied_to.is_empty() {
                String::new()
            } else {
                format!(" — applies to {}", f.applied_to.join("; "))
            }
        ),
        _ => {
            let mut s = f.api.clone().unwrap_or_default();
            if let Some(op) = &f.op {
                s.push_str(&format!(" op={op}"));
            }
            if let Some(safe) = f.safe {
                s.push_str(if safe { " safe" } else { " UNSAFE" });
            }
            if let Some(n) = &f.name {
                s.push_str(&format!(" {n}"));
            }
            for (k, v) in &f.flags {
                s.push_str(&format!(" {k}={v}"));
            }
            if let Some(r) = &f.reason {
                s.push_str(&format!(" ({r})"));
            }
            s
        }
    }
}

/// Write an output whole or not at all: regular files through a temporary file
/// in the same directory and a rename; `-` is standard output; special files
/// (`/dev/null`, pipes) are written directly and never replaced.
/// Was standard output closed when the program started (`>&-`)? The Rust
/// runtime then points descriptor 1 at /dev/null, opened read-write, and
/// every write "succeeds": the output would be lost without a word. A shell's
/// `> /dev/null` opens it write-only, so the two can be told apart.
#[cfg(unix)]
fn stdout_was_closed() -> bool {
    // SAFETY: fcntl and fstat only query descriptor 1; `st` is plain data.
    unsafe {
        let flags = libc::fcntl(1, libc::F_GETFL);
        if flags == -1 {
            return true;
        }
        if flags & libc::O_ACCMODE != libc::O_RDWR {
            return false;
        }
        let mut st: libc::stat = std::mem::zeroed();
        let mut null: libc::stat = std::mem::zeroed();
        libc::fstat(1, &mut st) == 0
            && libc::stat(c"/dev/null".as_ptr(), &mut null) == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFCHR
            && st.st_rdev == null.st_rdev
    }
}

#[cfg(not(unix))]
fn stdout_was_closed() -> bool {
    false
}

pub fn write_output(target: Option<&Path>, content: &str) -> std::io::Result<()> {
    let Some(path) = target.filter(|p| p.as_os_str() != "-") else {
        if stdout_was_closed() {
            return Err(std::io::Error::from_raw_os_error(libc::EBADF));
        }
        let mut out = std::io::stdout().lock();
        return match out.write_all(content.as_bytes()).and_then(|_| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r,
        };
    };
    if let Ok(m) = std::fs::metadata(path) {
        if !m.is_file() {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            return f.write_all(content.as_bytes());
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_temporaries(dir, &name);
    let tmp_path = dir.join(format!(".{name}{TMP_MARK}{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(&tmp_path)?;
    let guard = TempGuard::arm(&tmp_path);
    let written = (|| {
        file.write_all(content.as_bytes())?;
        // The file replaced keeps its permissions; a new one gets the usual
        // umask-based mode (the temporary file is created 0600).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = match std::fs::metadata(path) {
                Ok(m) => m.permissions().mode() & 0o7777,
                Err(_) => {
                    // SAFETY: umask only swaps the process's file mode mask,
                    // restored at once.
                    let mask = unsafe {
                        let m = libc::umask(0o022);
                        libc::umask(m);
                        m
                    };
                    0o666 & !(mask as u32)
                }
            };
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp_path, path)
    })();
    drop(guard);
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp_path);
    }
    written?;
    Ok(())
}

/// Temporary output files are named `.NAME.threatscan-tmp.PID` beside the
/// output: removed when the write fails or the process is interrupted
/// (SIGINT, SIGTERM, SIGHUP), and, when a process was killed outright, by the
/// next run that writes the same output.
const TMP_MARK: &str = ".threatscan-tmp.";

/// Remove `.NAME.threatscan-tmp.PID` files in `dir` whose process is gone.
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}{TMP_MARK}");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn process_alive(pid: i32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// While armed, SIGINT, SIGTERM and SIGHUP remove the temporary file and
/// end the process with the conventional status (128 + signal).
struct TempGuard;

#[cfg(unix)]
static TEMP_PATH: std::sync::atomic::AtomicPtr<libc::c_char> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    let p = TEMP_PATH.swap(std::ptr::null_mut(), std::sync::atomic::Ordering::SeqCst);
    // SAFETY: unlink and _exit are async-signal-safe; p is a leaked CString.
    unsafe {
        if !p.is_null() {
            libc::unlink(p);
        }
        libc::_exit(128 + sig);
    }
}

impl TempGuard {
    fn arm(path: &Path) -> TempGuard {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) {
                TEMP_PATH.store(c.into_raw(), std::sync::atomic::Ordering::SeqCst);
                for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    // SAFETY: installs a handler that only calls
                    // async-signal-safe functions.
                    unsafe {
                        libc::signal(sig, on_signal as *const () as libc::sighandler_t);
                    }
                }
            }
        }
        let _ = path;
        TempGuard
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: restores the default disposition.
                unsafe {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            let p = TEMP_PATH.swap(std::ptr::null_mut(), std::sync::atomic::Ordering::SeqCst);
            if !p.is_null() {
                // SAFETY: p came from CString::into_raw in arm.
                drop(unsafe { std::ffi::CString::from_raw(p) });
            }
        }
    }
}
