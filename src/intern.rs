//! Interned names and literals: every identifier, attribute, keyword and
//! string literal the extractors keep is stored once for the whole run and
//! referred to by a 4-byte [`Sym`].
//!
//! Facts of every file are held at once for cross-file linking, and most of
//! what they hold is names (`request`, `self`, `objects`) repeated across
//! thousands of files. A `Sym` is a 32-bit index into one append-only table:
//! it derefs to `&'static str` with one lock-free read, and equal strings get
//! equal symbols, so equality is one integer comparison.
//!
//! Ordering and hashing follow the string, never the index: indices depend on
//! which worker thread met a string first, and nothing that reaches output
//! may depend on that.
//!
//! Strings are never freed (the table lives as long as the process), which is
//! what a one-shot command wants; a long-running host would grow with every
//! distinct string it ever extracted.

use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::{Mutex, OnceLock};

/// An interned string. `Sym::default()` is the empty string.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sym(NonZeroU32);

/// Shards of the string → index map, chosen by hash, so that extraction
/// threads rarely wait for each other.
const SHARDS: usize = 32;
/// Strings are copied into arena blocks of this many bytes (longer strings
/// get a block of their own).
const BLOCK: usize = 64 * 1024;
/// Slots of the per-thread table of recently interned strings.
const FRONT: usize = 8192;

type Recent = std::cell::Cell<(&'static str, u32)>;

thread_local! {
    /// String and symbol of a recently interned string, by hash.
    static RECENT: [Recent; FRONT] = const { [const { std::cell::Cell::new(("", 0)) }; FRONT] };
}

struct Shard {
    map: hashbrown::HashTable<NonZeroU32>,
    /// The block strings are copied into; full blocks are leaked.
    block: String,
}

struct Interner {
    strs: boxcar::Vec<&'static str>,
    shards: [Mutex<Shard>; SHARDS],
    hasher: rustc_hash::FxBuildHasher,
}

fn interner() -> &'static Interner {
    static I: OnceLock<Interner> = OnceLock::new();
    I.get_or_init(|| {
        let i = Interner {
            strs: boxcar::Vec::new(),
            shards: std::array::from_fn(|_| {
                Mutex::new(Shard {
                    // Room for a mid-sized repository's names without
                    // growing (each growth hashes every string again).
                    map: hashbrown::HashTable::with_capacity(2048),
                    block: String::new(),
                })
            }),
            hasher: rustc_hash::FxBuildHasher,
        };
        // Index 0 is never handed out (symbols are non-zero); index 1 is "".
        i.strs.push("");
        let empty = i.strs.push("");
        debug_assert_eq!(empty, 1);
        let h = i.hasher.hash_one("");
        i.shards[h as usize % SHARDS]
            .lock()
            .unwrap()
            .map
            .insert_unique(h, NonZeroU32::new(1).unwrap(), |_| h);
        i
    })
}

impl Sym {
    /// The symbol of `s`, adding it to the table on first sight.
    pub fn new(s: &str) -> Sym {
        let i = interner();
        let h = i.hasher.hash_one(s);
        // Most names recur within a thread's files (`self`, `request`):
        // a small per-thread table answers those without the shared lock.
        let slot = (h >> 40) as usize % FRONT;
        let (seen, id) = RECENT.with(|r| r[slot].get());
        if seen == s {
            if let Some(id) = NonZeroU32::new(id) {
                return Sym(id);
            }
        }
        let sym = Sym::insert(i, h, s);
        RECENT.with(|r| r[slot].set((sym.as_str(), sym.0.get())));
        sym
    }

    fn insert(i: &'static Interner, h: u64, s: &str) -> Sym {
        let mut shard = i.shards[h as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let strs = &i.strs;
        if let Some(id) = shard.map.find(h, |id| strs[id.get() as usize] == s) {
            return Sym(*id);
        }
        let stored: &'static str = if s.len() > BLOCK / 4 {
            Box::leak(s.to_owned().into_boxed_str())
        } else {
            if shard.block.capacity() - shard.block.len() < s.len() {
                // The old block stays allocated (strings point into it);
                // a block is never grown, so they never move.
                let full = std::mem::replace(&mut shard.block, String::with_capacity(BLOCK));
                std::mem::forget(full);
            }
            let start = shard.block.len();
            shard.block.push_str(s);
            // SAFETY: the block's buffer is never reallocated (capacity is
            // checked above) nor freed (full blocks are forgotten), so the
            // bytes just written stay valid and unchanged for the process.
            unsafe {
                let p = shard.block.as_ptr().add(start);
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, s.len()))
            }
        };
        let idx = strs.push(stored);
        let id = NonZeroU32::new(u32::try_from(idx).expect("fewer than 2^32 strings"))
            .expect("index 0 is reserved");
        let hasher = &i.hasher;
        shard
            .map
            .insert_unique(h, id, |id| hasher.hash_one(strs[id.get() as usize]));
        Sym(id)
    }

    pub fn as_str(&self) -> &'static str {
        interner().strs[self.0.get() as usize]
    }

    pub fn is_empty(&self) -> bool {
        self.0.get() == 1
    }

    /// The symbol's index in this run's table (meaningless in another run).
    pub(crate) fn id(self) -> u32 {
        self.0.get()
    }

    /// The symbol of an index [`Sym::id`] gave in this run; `None` for one
    /// the table does not hold.
    pub(crate) fn from_id(id: u32) -> Option<Sym> {
        let id = NonZeroU32::new(id)?;
        interner().strs.get(id.get() as usize)?;
        Some(Sym(id))
    }
}

impl Default for Sym {
    fn default() -> Sym {
        interner();
        Sym(NonZeroU32::new(1).unwrap())
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Sym {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Sym {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Sym) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sym {
    fn cmp(&self, other: &Sym) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Sym {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Sym> for str {
    fn eq(&self, other: &Sym) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Sym> for &str {
    fn eq(&self, other: &Sym) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Sym> for String {
    fn eq(&self, other: &Sym) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Sym {
        Sym::new(s)
    }
}

impl From<&String> for Sym {
    fn from(s: &String) -> Sym {
        Sym::new(s)
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Sym {
        Sym::new(&s)
    }
}

impl From<Sym> for String {
    fn from(s: Sym) -> String {
        s.as_str().to_owned()
    }
}

impl std::fmt::Display for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.as_str(), f)
    }
}

impl std::fmt::Debug for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// How symbols are written and read: as strings (JSON, or anything else),
/// or as indices into a table of the strings of one cache entry
/// ([`with_table`], [`from_table`]).
enum Codec {
    Strings,
    Encode(rustc_hash::FxHashMap<u32, u32>, Vec<Sym>),
    Decode(Vec<Sym>),
}

thread_local! {
    static CODEC: std::cell::RefCell<Codec> = const { std::cell::RefCell::new(Codec::Strings) };
}

/// Run `f` (a serialization) with symbols written as indices into a table
/// of distinct strings, returned beside its result: each string is written
/// (and interned again when read) once per entry instead of at every use.
pub fn with_table<R>(f: impl FnOnce() -> R) -> (R, Vec<Sym>) {
    CODEC.with(|c| *c.borrow_mut() = Codec::Encode(Default::default(), vec![]));
    let reset = Reset;
    let r = f();
    std::mem::forget(reset);
    let table = CODEC.with(|c| match c.replace(Codec::Strings) {
        Codec::Encode(_, order) => order,
        _ => vec![],
    });
    (r, table)
}

/// Run `f` (a deserialization) with symbols read as indices into `table`;
/// an index past its end is a decoding error.
pub fn from_table<R>(table: Vec<Sym>, f: impl FnOnce() -> R) -> R {
    CODEC.with(|c| *c.borrow_mut() = Codec::Decode(table));
    let _reset = Reset;
    f()
}

/// Back to strings when a (de)serialization ends, even by unwinding.
struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        CODEC.with(|c| *c.borrow_mut() = Codec::Strings);
    }
}

impl serde::Serialize for Sym {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = CODEC.with(|c| match &mut *c.borrow_mut() {
            Codec::Encode(seen, order) => Some(*seen.entry(self.0.get()).or_insert_with(|| {
                order.push(*self);
                order.len() as u32 - 1
            })),
            _ => None,
        });
        match index {
            Some(i) => s.serialize_u32(i),
            None => s.serialize_str(self.as_str()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Sym {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Sym;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sym, E> {
                Ok(Sym::new(v))
            }
            fn visit_u32<E: serde::de::Error>(self, v: u32) -> Result<Sym, E> {
                CODEC
                    .with(|c| match &*c.borrow() {
                        Codec::Decode(table) => table.get(v as usize).copied(),
                        _ => None,
                    })
                    .ok_or_else(|| E::custom("symbol index out of range"))
            }
        }
        if CODEC.with(|c| matches!(&*c.borrow(), Codec::Decode(_))) {
            d.deserialize_u32(V)
        } else {
            d.deserialize_str(V)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sym;

    #[test]
    fn equal_strings_get_one_symbol_and_order_follows_the_text() {
        let a = Sym::new("request");
        let b = Sym::from(String::from("request"));
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "request");
        assert_eq!(format!("{a:?}"), "\"request\"");
        // Interned in the opposite order to their text order.
        let z = Sym::new("zz-intern-test");
        let y = Sym::new("yy-intern-test");
        assert!(y < z);
        assert!(Sym::default().is_empty());
        assert_eq!(Sym::new(""), Sym::default());
        let long = "x".repeat(100_000);
        assert_eq!(Sym::new(&long).as_str(), long);
        assert_eq!(Sym::new(&long), Sym::new(&long));
    }

    #[test]
    fn symbols_from_many_threads_agree() {
        let words: Vec<String> = (0..2000).map(|i| format!("w{}", i % 500)).collect();
        let runs: Vec<Vec<Sym>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| words.iter().map(|w| Sym::new(w)).collect::<Vec<_>>()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &runs[1..] {
            assert_eq!(r, &runs[0]);
        }
        for (w, s) in words.iter().zip(&runs[0]) {
            assert_eq!(s.as_str(), w);
        }
    }
}
