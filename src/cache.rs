//! The extraction cache: what [`crate::extract_timed`] made of each file,
//! kept between runs so that an unchanged file is not parsed again.
//!
//! One pack file per scanned root (and set of rule queries) under the cache
//! directory (`--cache-dir`, `THREATSCAN_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/threatscan` or `~/.cache/threatscan`): an index of
//! entries, each keyed by a hash of the binary's build, the file's language,
//! path and content and the rule queries, then the entries: each an
//! [`EntryMeta`] head and the encoded [`FileFacts`], decoded only when a
//! result is computed (see [`crate::Scan::files`]). Whole-repository stages
//! (linking, routes, the model) are recomputed from them, so results are the same with and without the
//! cache; `facts` also keeps its linked facts in a [`Memo`] beside the pack,
//! read back only when every input they come from is unchanged.
//!
//! The pack is written to a temporary file and renamed into place, so that
//! concurrent runs never see half a pack (the last writer wins). A pack of
//! another format or build, a truncated one or an entry whose checksum does
//! not match is ignored, and rewritten by the run. Nothing here fails a run:
//! a cache that cannot be read or written is left alone.

use crate::extract::{FileFacts, RuleQuery};
use crate::lang::Lang;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64, Xxh3};

const MAGIC: &[u8; 8] = b"TSCACHE2";

/// The build the binary comes from (see build.rs).
const BUILD_ID: &str = env!("THREATSCAN_BUILD_ID");

/// The largest pack read (a larger one is ignored): 1 GiB.
const MAX_PACK: u64 = 1 << 30;

#[derive(Serialize, Deserialize)]
struct Header {
    build: String,
    /// What the pack's name stands for: a hash of the root and the rule
    /// queries its entries were extracted with (a pack copied in from
    /// another root or query set is not used: an entry taken by its stamp
    /// is not keyed again).
    name: u128,
    entries: Vec<IndexEntry>,
}

#[derive(Serialize, Deserialize)]
struct IndexEntry {
    path: String,
    key: u128,
    offset: u64,
    len: u64,
    check: u64,
    /// The file's [`stamp`] when its content was hashed (0: none).
    stamp: u64,
}

/// How long before a run a file must have last changed for its stamp to be
/// trusted: a change within the same tick of a coarse file-system clock
/// leaves the times as they were, so a file that recent is read and hashed.
pub const RACY: std::time::Duration = std::time::Duration::from_secs(2);

/// A file's stamp: a hash of its size, inode, device, modification and
/// change times, as git's index keeps them. An unchanged stamp means an
/// unchanged file, so a run reuses the entry without reading the file;
/// the change time (`ctime`) cannot be set back by tools that restore
/// modification times (`cp -p`, `touch -d`, archives). 0 (no stamp, the
/// file is read and its content hashed) when the file changed less than
/// [`RACY`] before `now`, is not a regular file, or on systems without
/// these times.
pub fn stamp(meta: &std::fs::Metadata, now: std::time::SystemTime) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if !meta.file_type().is_file() {
            return 0;
        }
        let changed = std::time::UNIX_EPOCH
            + std::time::Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
        if now.duration_since(changed).map_or(true, |age| age < RACY) {
            return 0;
        }
        let mut h = Xxh3::new();
        for x in [
            meta.len(),
            meta.ino(),
            meta.dev(),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.ctime() as u64,
            meta.ctime_nsec() as u64,
        ] {
            h.update(&x.to_le_bytes());
        }
        h.digest().max(1)
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, now);
        0
    }
}

/// The default cache directory: `THREATSCAN_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/threatscan`, else `$HOME/.cache/threatscan`. A relative
/// `XDG_CACHE_HOME` or `HOME` is ignored (the XDG specification says so:
/// it would put the cache in the current directory, maybe the scanned
/// repository).
pub fn default_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = env("THREATSCAN_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    let abs = |k: &str| env(k).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(d) = abs("XDG_CACHE_HOME") {
        return Some(d.join("threatscan"));
    }
    abs("HOME").map(|h| h.join(".cache").join("threatscan"))
}

/// The pack of one root, as read at the start of a run.
pub struct Cache {
    pack: PathBuf,
    /// The hash the pack is named by (root and rule queries).
    name: u128,
    queries: u128,
    data: Vec<u8>,
    index: FxHashMap<String, (u128, usize, usize, u64, u64)>,
}

/// One file's entry for the next pack: its key, [`stamp`] and encoded facts.
pub struct Entry<'a> {
    pub path: String,
    pub key: u128,
    pub stamp: u64,
    pub bytes: std::borrow::Cow<'a, [u8]>,
}

impl Cache {
    /// Open the pack of `root` under `dir` (an empty cache when there is
    /// none or it cannot be used).
    pub fn open(dir: &Path, root: &Path, queries: &[RuleQuery]) -> Cache {
        let mut q = Xxh3::new();
        for rq in queries {
            q.update(rq.rule_id.as_bytes());
            q.update(&[0, rq.lang as u8]);
            q.update(rq.text.as_bytes());
            q.update(&[0]);
        }
        let queries = q.digest128();
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut name = Xxh3::new();
        name.update(root.as_os_str().as_encoded_bytes());
        name.update(&queries.to_le_bytes());
        let name = name.digest128();
        let pack = dir.join("v1").join(format!("{name:032x}.pack"));
        let mut c = Cache {
            pack,
            name,
            queries,
            data: vec![],
            index: FxHashMap::default(),
        };
        c.load();
        c
    }

    fn load(&mut self) {
        // A regular file of at most MAX_PACK bytes (a FIFO put in its place
        // is refused without blocking).
        let Ok(data) = crate::fsread::read_given(&self.pack, MAX_PACK) else {
            return;
        };
        let Some(rest) = data.strip_prefix(MAGIC) else {
            return;
        };
        let Some((len, rest)) = rest.split_first_chunk::<8>() else {
            return;
        };
        let len = u64::from_le_bytes(*len) as usize;
        let Some(head) = rest.get(..len) else { return };
        let Ok(header) = postcard::from_bytes::<Header>(head) else {
            return;
        };
        if header.build != BUILD_ID || header.name != self.name {
            return;
        }
        let base = MAGIC.len() + 8 + len;
        for e in header.entries {
            let (Ok(off), Ok(n)) = (usize::try_from(e.offset), usize::try_from(e.len)) else {
                continue;
            };
            let start = base.saturating_add(off);
            if start.checked_add(n).is_some_and(|end| end <= data.len()) {
                self.index
                    .insert(e.path, (e.key, start, n, e.check, e.stamp));
            }
        }
        self.data = data;
    }

    /// The key of a file's entry.
    pub fn key(&self, rel: &str, lang: Lang, src: &[u8]) -> u128 {
        let mut h = Xxh3::new();
        h.update(BUILD_ID.as_bytes());
        h.update(&[0, lang as u8]);
        h.update(rel.as_bytes());
        h.update(&[0]);
        h.update(&self.queries.to_le_bytes());
        h.update(&xxh3_128(src).to_le_bytes());
        h.digest128()
    }

    /// The key of `rel`'s entry when its stamp is `stamp` (not 0): the file
    /// is unchanged since its content was hashed, and need not be read.
    pub fn key_by_stamp(&self, rel: &str, stamp: u64) -> Option<u128> {
        let &(key, .., s) = self.index.get(rel)?;
        (stamp != 0 && s == stamp).then_some(key)
    }

    /// The cached facts of `rel` when its entry has this key and decodes to
    /// well-formed facts of that file (`queries`: how many rule queries the
    /// run has).
    pub fn get(&self, rel: &str, key: u128, queries: usize) -> Option<FileFacts> {
        let bytes = self.bytes(rel, key)?;
        let ff = decode(bytes)?;
        (ff.path == rel && ff.well_formed(queries)).then_some(ff)
    }

    /// The head of `rel`'s entry when it has this key and its checksum,
    /// without decoding the facts.
    pub fn meta(&self, rel: &str, key: u128) -> Option<EntryMeta> {
        let bytes = self.bytes(rel, key)?;
        Some(postcard::take_from_bytes::<EntryMeta>(bytes).ok()?.0)
    }

    /// The encoded entry of `rel` when it has this key and its checksum.
    pub fn bytes(&self, rel: &str, key: u128) -> Option<&[u8]> {
        let &(k, start, n, check, _) = self.index.get(rel)?;
        if k != key {
            return None;
        }
        let bytes = &self.data[start..start + n];
        (xxh3_64(bytes) == check).then_some(bytes)
    }

    /// Whether the pack holds exactly these entries already.
    pub fn holds(&self, entries: &[Entry]) -> bool {
        entries.len() == self.index.len()
            && entries.iter().all(|e| {
                self.index
                    .get(&e.path)
                    .is_some_and(|x| x.0 == e.key && x.4 == e.stamp)
            })
    }

    /// The pack's path, beside which the [`Memo`] results live.
    pub fn pack_path(&self) -> PathBuf {
        self.pack.clone()
    }

    /// Write the next pack: the entries of this run (atomically: a
    /// temporary file renamed over the old pack).
    pub fn store(&self, entries: &[Entry]) -> std::io::Result<()> {
        let dir = self.pack.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        // The cache directory keeps itself out of version control.
        if let Some(top) = dir.parent() {
            let ignore = top.join(".gitignore");
            if !ignore.exists() {
                let _ = std::fs::write(ignore, "# Created by threatscan\n*\n");
            }
        }
        let mut offset = 0u64;
        let header = Header {
            build: BUILD_ID.to_string(),
            name: self.name,
            entries: entries
                .iter()
                .map(|e| {
                    let ie = IndexEntry {
                        path: e.path.clone(),
                        key: e.key,
                        offset,
                        len: e.bytes.len() as u64,
                        check: xxh3_64(&e.bytes),
                        stamp: e.stamp,
                    };
                    offset += e.bytes.len() as u64;
                    ie
                })
                .collect(),
        };
        let head = postcard::to_allocvec(&header).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            self.pack
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(&(head.len() as u64).to_le_bytes())?;
            w.write_all(&head)?;
            for e in entries {
                w.write_all(&e.bytes)?;
            }
            w.into_inner().map_err(|e| e.into_error())?;
            std::fs::rename(&tmp, &self.pack)
        };
        write().inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        prune(dir, &self.pack, MAX_PACKS, MAX_CACHE_BYTES);
        Ok(())
    }
}

/// The result memo of a run: a command's whole-repository result (the
/// linked facts of `facts`, the model of `model`, the findings of `scan`
/// before a baseline), kept beside the root's pack (`<pack>.facts`,
/// `<pack>.model`, `<pack>.scan`) and keyed by a digest of everything
/// it is computed from: every file's entry key (build, language, path,
/// content, rule queries), code scope and outcome, the files skipped, the
/// supply chain's facts, manifests, the repository's framework specs, the
/// scopes the command analyses and the command's own options. Linking, the
/// route pass and the model are whole-repository work that no per-file
/// entry saves; when nothing they read has changed, the result is read back
/// instead. Any change (one file, an option, a new build) misses, and the
/// result is recomputed from the per-file entries and stored again.
///
/// Written like the pack (a temporary file renamed into place); one that
/// is truncated, of another format or whose checksum or key does not match
/// is ignored.
#[derive(Clone, Debug)]
pub struct Memo {
    /// The pack's path: each kind of result is stored beside it.
    pack: PathBuf,
    key: u128,
}

const MEMO_MAGIC: &[u8; 8] = b"TSMEMO01";

/// The kinds of result kept (file extensions beside the pack).
pub const MEMO_KINDS: &[&str] = &["facts", "model", "scan"];

impl Memo {
    pub fn new(pack: PathBuf, key: u128) -> Memo {
        Memo { pack, key }
    }

    /// The digest with `what` added (an input read after the scan).
    pub fn mix(&mut self, what: &[u8]) {
        let mut h = Xxh3::new();
        h.update(&self.key.to_le_bytes());
        h.update(what);
        self.key = h.digest128();
    }

    /// Where a `kind` of result lives, and its key with the command's
    /// options (`extra`) added.
    fn at(&self, kind: &str, extra: &[u8]) -> (PathBuf, u128) {
        let mut h = Xxh3::new();
        // The build: every parsed file's entry key has it, but a tree with
        // no parsed file (workflows only, every file left out) has none.
        h.update(BUILD_ID.as_bytes());
        h.update(&self.key.to_le_bytes());
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(extra);
        (self.pack.with_extension(kind), h.digest128())
    }

    /// The result of `kind` stored under this digest and `extra`, if any.
    pub fn get<T: serde::de::DeserializeOwned>(&self, kind: &str, extra: &[u8]) -> Option<T> {
        let (path, want) = self.at(kind, extra);
        // A regular file of at most MAX_PACK bytes (a FIFO put in its place
        // is refused without blocking).
        let data = crate::fsread::read_given(&path, MAX_PACK).ok()?;
        let rest = data.strip_prefix(MEMO_MAGIC)?;
        let (key, rest) = rest.split_first_chunk::<16>()?;
        let (check, json) = rest.split_first_chunk::<8>()?;
        if u128::from_le_bytes(*key) != want || u64::from_le_bytes(*check) != xxh3_64(json) {
            return None;
        }
        serde_json::from_slice(json).ok()
    }

    /// Store `value` as the result of `kind` under this digest and `extra`
    /// (errors are ignored: a memo that cannot be written is recomputed
    /// next time).
    pub fn put<T: Serialize + ?Sized>(&self, kind: &str, extra: &[u8], value: &T) {
        let (path, key) = self.at(kind, extra);
        let Ok(json) = serde_json::to_vec(value) else {
            return;
        };
        let Some(dir) = path.parent() else {
            return;
        };
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            std::fs::create_dir_all(dir)?;
            let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            w.write_all(MEMO_MAGIC)?;
            w.write_all(&key.to_le_bytes())?;
            w.write_all(&xxh3_64(&json).to_le_bytes())?;
            w.write_all(&json)?;
            w.into_inner().map_err(|e| e.into_error())?;
            std::fs::rename(&tmp, &path)
        };
        if write().is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The most packs kept (one per scanned root): beyond it, the least recently
/// written go first.
pub const MAX_PACKS: usize = 256;
/// The most bytes of packs (with their result memos) kept: 2 GiB.
pub const MAX_CACHE_BYTES: u64 = 2 << 30;
/// A temporary pack older than this was left by a run that died: removed.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Keep the cache directory bounded: roots scanned once (temporary checkouts,
/// test folders) would otherwise leave a pack each forever. Removes the
/// least recently written packs until at most `max_packs` and `max_bytes`
/// remain, never `keep` (the pack just written), and temporary files of
/// runs that died. Errors are ignored: pruning never fails a run.
pub fn prune(dir: &Path, keep: &Path, max_packs: usize, max_bytes: u64) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut packs: Vec<(std::time::SystemTime, u64, PathBuf)> = vec![];
    for e in rd.flatten() {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            if now
                .duration_since(modified)
                .is_ok_and(|age| age > STALE_TMP)
            {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        if name.ends_with(".pack") && path != keep {
            let len = meta.len() + memo_bytes(&path);
            packs.push((modified, len, path));
        }
    }
    let kept_bytes = std::fs::metadata(keep).map(|m| m.len()).unwrap_or(0) + memo_bytes(keep);
    // Newest first; the pack just written counts first.
    packs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    let mut count = 1usize;
    let mut bytes = kept_bytes;
    for (_, len, path) in packs {
        count += 1;
        bytes += len;
        if count > max_packs || bytes > max_bytes {
            let _ = std::fs::remove_file(&path);
            for kind in MEMO_KINDS {
                let _ = std::fs::remove_file(path.with_extension(kind));
            }
        }
    }
}

/// The bytes of the result memos beside a pack (they go with it).
fn memo_bytes(pack: &Path) -> u64 {
    MEMO_KINDS
        .iter()
        .filter_map(|k| std::fs::symlink_metadata(pack.with_extension(k)).ok())
        .map(|m| m.len())
        .sum()
}

/// What a run needs of a file before its facts (the scan's counts and
/// warnings, the code scope's test items): written at the head of its
/// entry, so that a run whose result memo answers never decodes the facts
/// (see [`crate::Scan::files`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryMeta {
    pub bytes: u64,
    pub has_errors: bool,
    pub partial: Vec<String>,
    pub test_lines: Vec<(u32, u32)>,
}

impl EntryMeta {
    fn of(ff: &FileFacts) -> EntryMeta {
        EntryMeta {
            bytes: ff.bytes as u64,
            has_errors: ff.has_errors,
            partial: ff.partial.clone(),
            test_lines: ff.test_lines.clone(),
        }
    }

    /// A stand-in for the file's facts until they are decoded: its path,
    /// language and these fields, nothing extracted.
    pub fn stand_in(self, path: String, lang: Lang) -> FileFacts {
        let mut ff = FileFacts::new(path, lang, self.bytes as usize);
        ff.has_errors = self.has_errors;
        ff.partial = self.partial;
        ff.test_lines = self.test_lines;
        ff
    }
}

/// A file's facts encoded for the pack.
pub fn encode(ff: &FileFacts) -> Option<Vec<u8>> {
    // The head, then the distinct strings, then the facts referring to them.
    let mut out = postcard::to_allocvec(&EntryMeta::of(ff)).ok()?;
    let (facts, table) = crate::intern::with_table(|| postcard::to_allocvec(ff));
    let strs: Vec<&str> = table.iter().map(|s| s.as_str()).collect();
    out.extend_from_slice(&postcard::to_allocvec(&strs).ok()?);
    out.extend_from_slice(&facts.ok()?);
    Some(out)
}

/// An entry's facts: past its head, its string table, interned once, then
/// the facts. `None` when the head does not match the facts.
fn decode(bytes: &[u8]) -> Option<FileFacts> {
    let (meta, rest) = postcard::take_from_bytes::<EntryMeta>(bytes).ok()?;
    let (strs, rest) = postcard::take_from_bytes::<Vec<&str>>(rest).ok()?;
    let table = strs.into_iter().map(crate::intern::Sym::new).collect();
    let ff: FileFacts = crate::intern::from_table(table, || postcard::from_bytes(rest).ok())?;
    (EntryMeta::of(&ff) == meta).then_some(ff)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry of `ff` under `path`, this key and stamp.
    fn entry(path: &str, key: u128, stamp: u64, ff: &FileFacts) -> Entry<'static> {
        Entry {
            path: path.into(),
            key,
            stamp,
            bytes: std::borrow::Cow::Owned(encode(ff).unwrap()),
        }
    }

    /// A pack answers only for the root and rule queries its name stands
    /// for: one copied into another pack's place (the pack `facts` uses,
    /// with no rule queries, over the one `scan` uses) is not read, since an
    /// entry taken by its stamp is not keyed again.
    #[test]
    fn a_pack_copied_over_another_roots_or_query_sets_pack_is_not_used() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let dir = tmp.path().join("cache");
        let src = b"def f():\n    return 1\n";
        let ff = crate::extract_source("x.py".into(), Lang::Python, src).unwrap();
        let store = |c: &Cache| {
            let key = c.key("x.py", Lang::Python, src);
            c.store(&[entry("x.py", key, 7, &ff)]).unwrap();
        };
        let plain = Cache::open(&dir, &a, &[]);
        store(&plain);
        assert!(Cache::open(&dir, &a, &[]).key_by_stamp("x.py", 7).is_some());
        let lang = Lang::Python;
        let text = "(call) @match".to_string();
        let q = tree_sitter::Query::new(&lang.grammar(), &text).unwrap();
        let queries = [crate::extract::RuleQuery::new("R".into(), text, lang, q)];
        let with_queries = Cache::open(&dir, &a, &queries);
        let other_root = Cache::open(&dir, &b, &[]);
        for other in [&with_queries, &other_root] {
            assert_ne!(other.pack, plain.pack);
            std::fs::copy(&plain.pack, &other.pack).unwrap();
        }
        for (what, c) in [
            ("rule queries", Cache::open(&dir, &a, &queries)),
            ("root", Cache::open(&dir, &b, &[])),
        ] {
            assert!(c.key_by_stamp("x.py", 7).is_none(), "another {what}");
            assert!(c.index.is_empty(), "another {what}");
        }
    }

    /// A run takes an entry's head without decoding its facts; when the
    /// facts are needed and do not decode to well-formed facts of the file,
    /// the file is extracted again, and the run's facts are those of a run
    /// without the cache.
    #[test]
    fn an_entry_found_malformed_when_decoded_late_is_extracted_again() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(&repo).unwrap();
        let src = b"import subprocess\n\ndef run(cmd):\n    subprocess.run(cmd, shell=True)\n";
        std::fs::write(repo.join("a.py"), src).unwrap();
        std::fs::write(repo.join("b.py"), b"def f():\n    return 1\n").unwrap();
        let mut opts = crate::Options::new(&repo);
        opts.cache_dir = Some(tmp.path().join("cache"));
        let facts = |s: &crate::Scan| format!("{:?}", s.files());
        let plain = crate::scan(&crate::Options::new(&repo)).unwrap();
        let first = crate::scan(&opts).unwrap();
        assert_eq!(facts(&first), facts(&plain));
        // Both files are taken from the cache now, undecoded until asked.
        let warm = crate::scan(&opts).unwrap();
        assert_eq!(warm.stats.timings.cache_hits, 2);
        assert_eq!(facts(&warm), facts(&plain));
        // a.py's entry, rewritten with facts whose call points at a
        // definition that is not there (its checksum and head are right).
        let c = Cache::open(opts.cache_dir.as_ref().unwrap(), &repo, &[]);
        let key = c.key("a.py", Lang::Python, src);
        let mut bad = crate::extract_source("a.py".into(), Lang::Python, src).unwrap();
        bad.calls[0].scope = Some(9).into();
        c.store(&[entry("a.py", key, 0, &bad)]).unwrap();
        let again = crate::scan(&opts).unwrap();
        assert_eq!(again.stats.timings.cache_hits, 1, "a.py's head is taken");
        assert_eq!(facts(&again), facts(&plain));
        // The same, and a.py gone before its facts are asked for: it has
        // none and says why; b.py is as before.
        c.store(&[entry("a.py", key, 0, &bad)]).unwrap();
        let lost = crate::scan(&opts).unwrap();
        assert_eq!(lost.stats.timings.cache_hits, 1);
        std::fs::remove_file(repo.join("a.py")).unwrap();
        let files = lost.files();
        assert_eq!(files[0].path, "a.py");
        assert!(files[0].calls.is_empty() && files[0].defs.is_empty());
        assert_eq!(files[0].partial, [crate::LOST_LATE]);
        assert_eq!(format!("{:?}", files[1]), format!("{:?}", plain.files()[1]));
    }

    /// An entry passes its checksum whoever wrote it; one whose facts point
    /// outside themselves (an enclosing definition that is not there, a
    /// scope chain that loops, a rule query the run does not have) is not
    /// used, and the file is extracted again.
    #[test]
    fn entries_whose_indices_point_outside_their_facts_are_not_used() {
        let tmp = tempfile::tempdir().unwrap();
        let src = b"class A:\n    x = 1\n    def f(self):\n        g(self.x)\n";
        let ff = crate::extract_source("a.py".into(), Lang::Python, src).unwrap();
        assert!(ff.well_formed(0));
        assert!(!ff.calls.is_empty() && ff.defs.len() == 2, "{ff:?}");
        let mut bad_scope = ff.clone();
        bad_scope.calls[0].scope = Some(7).into();
        let mut loop_ = ff.clone();
        loop_.defs[0].parent = Some(1);
        let mut bad_attr = ff.clone();
        bad_attr.defs[0].attrs.push(99);
        let mut bad_query = ff.clone();
        bad_query.query_hits.push(crate::extract::QueryHit {
            query: 3,
            start: Default::default(),
            end: Default::default(),
            text: String::new(),
        });
        let cases = [ff, bad_scope, loop_, bad_attr, bad_query];
        let c = Cache::open(tmp.path(), tmp.path(), &[]);
        let entries: Vec<Entry> = cases
            .iter()
            .enumerate()
            .map(|(i, f)| entry("a.py", i as u128, 0, f))
            .collect();
        for e in entries {
            let k = e.key;
            c.store(&[e]).unwrap();
            let stored = Cache::open(tmp.path(), tmp.path(), &[]);
            assert!(stored.bytes("a.py", k).is_some(), "case {k}: checksum");
            // Only the facts as extracted (case 0) are used.
            assert_eq!(stored.get("a.py", k, 0).is_some(), k == 0, "case {k}");
        }
    }
}
