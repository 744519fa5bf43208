//! A per-file arena for tree-sitter's C allocations.
//!
//! A syntax tree is tens of thousands of small reference-counted nodes.
//! Deleting one (`ts_tree_delete`) walks every node to drop its count and
//! frees them one by one: about 6% of the CPU of `facts` in perf. Nothing of
//! a tree outlives the file it was parsed from (extraction copies what it
//! needs into Rust values), so tree-sitter can instead allocate from a
//! bump arena while one file is parsed and extracted, and the whole arena is
//! reset at once afterwards, without walking the tree.
//!
//! Safety rests on three rules, kept by [`with_file`]:
//! - only allocations made while a file's scope is open come from the arena,
//!   and a parser, tree, cursor or query cursor created in the scope never
//!   leaves it (the parser is created per file for that reason: a reused
//!   parser keeps pools of nodes between parses);
//! - a free or realloc of memory from outside the arena (a compiled rule
//!   query, created before any file) goes to the ordinary allocator;
//! - scopes do not nest: a scope opened while one is open on the same thread
//!   (it cannot happen today, extraction never waits on other work) runs on
//!   the ordinary allocator.
//!
//! The arena is used only when the process installed these hooks
//! ([`install`], the command line does it first thing); a library host
//! keeps tree-sitter's own allocator and frees trees as usual.

#[cfg(not(unix))]
use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

/// Every block is aligned like `malloc`'s and preceded by its size.
const ALIGN: usize = 16;
const HEADER: usize = 16;
/// The first chunk; later ones double, up to [`MAX_CHUNK`].
const FIRST_CHUNK: usize = 1 << 20;
const MAX_CHUNK: usize = 64 << 20;
/// Chunk bytes a thread keeps between files; the rest is returned.
const KEEP: usize = 8 << 20;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Size classes: multiples of [`ALIGN`] up to [`SMALL`], then powers of two.
const SMALL: usize = 1024;
const CLASSES: usize = SMALL / ALIGN + usize::BITS as usize;

struct Arena {
    open: bool,
    /// (start, size) of each chunk (see [`map`]).
    chunks: Vec<(*mut u8, usize)>,
    /// The chunk being filled.
    cur: usize,
    top: usize,
    end: usize,
    /// The last block carved from a chunk: it grows in place.
    last: usize,
    /// Freed blocks by size class, each holding the next one's address.
    /// The parser frees as it goes (stack versions, nodes discarded in
    /// error recovery); without reuse a file full of syntax errors took
    /// four times the memory.
    free: [usize; CLASSES],
}

/// (class, capacity) of a block for `size` bytes; `None` on overflow.
fn class_of(size: usize) -> Option<(usize, usize)> {
    let size = size.max(1);
    if size <= SMALL {
        let cap = size.checked_add(ALIGN - 1)? & !(ALIGN - 1);
        Some((cap / ALIGN - 1, cap))
    } else {
        let cap = size.checked_next_power_of_two()?;
        Some((SMALL / ALIGN + cap.trailing_zeros() as usize, cap))
    }
}

impl Arena {
    const fn new() -> Arena {
        Arena {
            open: false,
            chunks: Vec::new(),
            cur: 0,
            top: 0,
            end: 0,
            last: 0,
            free: [0; CLASSES],
        }
    }

    fn contains(&self, p: usize) -> bool {
        self.chunks[..self.chunks.len().min(self.cur + 1)]
            .iter()
            .any(|&(s, n)| p >= s as usize && p < s as usize + n)
    }

    fn alloc(&mut self, size: usize) -> *mut u8 {
        let Some((class, cap)) = class_of(size) else {
            return std::ptr::null_mut();
        };
        let head = self.free[class];
        if head != 0 {
            // SAFETY: a freed block of this class holds the next one's
            // address in its first word.
            self.free[class] = unsafe { (head as *const usize).read() };
            return head as *mut u8;
        }
        let Some(need) = cap.checked_add(HEADER) else {
            return std::ptr::null_mut();
        };
        if self.end - self.top < need && !self.next_chunk(need) {
            return std::ptr::null_mut();
        }
        let block = self.top;
        // SAFETY: [block, block + need) lies inside the current chunk
        // (checked above), which is aligned to ALIGN, as is every block.
        unsafe { (block as *mut usize).write(cap) };
        self.top += need;
        self.last = block + HEADER;
        self.last as *mut u8
    }

    /// Move to the next chunk with room for `need` bytes, allocating one.
    fn next_chunk(&mut self, need: usize) -> bool {
        while self.cur + 1 < self.chunks.len() {
            self.cur += 1;
            let (s, n) = self.chunks[self.cur];
            if n >= need {
                (self.top, self.end) = (s as usize, s as usize + n);
                return true;
            }
        }
        let grown = FIRST_CHUNK << self.chunks.len().min(6);
        let size = grown.min(MAX_CHUNK).max(need);
        let Some(start) = map(size) else {
            return false;
        };
        self.chunks.push((start, size));
        self.cur = self.chunks.len() - 1;
        (self.top, self.end) = (start as usize, start as usize + size);
        true
    }

    /// Capacity of a block of this arena.
    fn capacity(p: usize) -> usize {
        // SAFETY: `p` is a block of this arena; its header precedes it.
        unsafe { ((p - HEADER) as *const usize).read() }
    }

    fn realloc(&mut self, p: usize, size: usize) -> *mut u8 {
        let cap = Arena::capacity(p);
        if size <= cap {
            return p as *mut u8;
        }
        let Some((class, grown)) = class_of(size) else {
            return std::ptr::null_mut();
        };
        // The last block grows in place, unless a freed block of the new
        // size is waiting (growing past it would leave it unused).
        if p == self.last && self.free[class] == 0 && grown <= self.end - p {
            // SAFETY: the header of the last block, in this chunk.
            unsafe { ((p - HEADER) as *mut usize).write(grown) };
            self.top = p + grown;
            return p as *mut u8;
        }
        let q = self.alloc(size);
        if !q.is_null() {
            // SAFETY: `q` holds at least `size` > `cap` bytes, `p` holds
            // `cap`, and they do not overlap (`q` is not in use).
            unsafe { std::ptr::copy_nonoverlapping(p as *const u8, q, cap) };
            self.free(p);
        }
        q
    }

    fn free(&mut self, p: usize) {
        let Some((class, _)) = class_of(Arena::capacity(p)) else {
            return;
        };
        // SAFETY: the block holds at least ALIGN bytes, no longer in use.
        unsafe { (p as *mut usize).write(self.free[class]) };
        self.free[class] = p;
        if p == self.last {
            self.last = 0;
        }
    }

    /// Forget every block; keep up to [`KEEP`] bytes of chunks for the
    /// next file.
    fn reset(&mut self) {
        let mut kept = 0;
        let mut keep = 0;
        for &(_, n) in &self.chunks {
            if kept + n > KEEP {
                break;
            }
            kept += n;
            keep += 1;
        }
        for (s, n) in self.chunks.drain(keep..) {
            unmap(s, n);
        }
        self.cur = 0;
        (self.top, self.end) = self
            .chunks
            .first()
            .map_or((0, 0), |&(s, n)| (s as usize, s as usize + n));
        self.last = 0;
        self.free = [0; CLASSES];
        self.open = false;
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        for &(s, n) in &self.chunks {
            unmap(s, n);
        }
    }
}

/// A chunk straight from the OS: returned whole when let go, so the memory
/// of a large file's tree does not stay with the allocator (peak RSS).
#[cfg(unix)]
fn map(size: usize) -> Option<*mut u8> {
    // SAFETY: an anonymous private mapping, no address hint; checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    (p != libc::MAP_FAILED).then_some(p.cast())
}

#[cfg(unix)]
fn unmap(start: *mut u8, size: usize) {
    // SAFETY: a mapping made by `map` with this size, no longer used.
    unsafe { libc::munmap(start.cast(), size) };
}

#[cfg(not(unix))]
fn map(size: usize) -> Option<*mut u8> {
    let layout = Layout::from_size_align(size, ALIGN).ok()?;
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(layout) };
    (!p.is_null()).then_some(p)
}

#[cfg(not(unix))]
fn unmap(start: *mut u8, size: usize) {
    // SAFETY: allocated in `map` with this layout.
    unsafe { std::alloc::dealloc(start, Layout::from_size_align_unchecked(size, ALIGN)) };
}

thread_local! {
    static ARENA: UnsafeCell<Arena> = const { UnsafeCell::new(Arena::new()) };
}

/// Run `f` on this thread's arena when a scope is open.
fn in_open<T>(f: impl FnOnce(&mut Arena) -> Option<T>) -> Option<T> {
    ARENA
        .try_with(|a| {
            // SAFETY: the arena is touched only by this thread, and never
            // re-entered: the hooks and `with_file` do not call each other.
            let a = unsafe { &mut *a.get() };
            if a.open {
                f(a)
            } else {
                None
            }
        })
        .ok()
        .flatten()
}

/// tree-sitter does not check what its allocator returns: out of memory,
/// stop at once with a message, as its default allocator does (a null
/// pointer would crash later with a segmentation fault).
fn checked(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() && size > 0 {
        eprintln!("threatscan: out of memory (the parser asked for {size} bytes)");
        std::process::abort();
    }
    p
}

unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    let p = match in_open(|a| Some(a.alloc(size))) {
        Some(p) => p.cast(),
        // SAFETY: mimalloc's malloc takes any size.
        None => unsafe { libmimalloc_sys::mi_malloc(size) },
    };
    checked(p, size)
}

unsafe extern "C" fn ts_calloc(n: usize, size: usize) -> *mut c_void {
    let total = n.saturating_mul(size);
    let p = match in_open(|a| Some(a.alloc(total))) {
        Some(p) => {
            if !p.is_null() {
                // SAFETY: the block holds `total` bytes.
                unsafe { std::ptr::write_bytes(p, 0, total) };
            }
            p.cast()
        }
        // SAFETY: mi_zalloc takes any size and returns zeroed memory or null.
        None => unsafe { libmimalloc_sys::mi_zalloc(total) },
    };
    checked(p, total)
}

unsafe extern "C" fn ts_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    let at = p as usize;
    let r = in_open(|a| {
        if p.is_null() {
            Some(a.alloc(size))
        } else if a.contains(at) {
            Some(a.realloc(at, size))
        } else {
            None
        }
    });
    let q = match r {
        Some(q) => q.cast(),
        // SAFETY: `p` is null or came from mimalloc (not the arena).
        None => unsafe { libmimalloc_sys::mi_realloc(p, size) },
    };
    checked(q, size)
}

unsafe extern "C" fn ts_free(p: *mut c_void) {
    let at = p as usize;
    let mine = in_open(|a| a.contains(at).then(|| a.free(at))).is_some();
    if !mine {
        // SAFETY: `p` is null or came from mimalloc (not the arena).
        unsafe { libmimalloc_sys::mi_free(p) }
    }
}

/// Route tree-sitter's allocations through mimalloc (its default, libc's
/// malloc, cost 6% of a cold run in its arena locks), and through a file's
/// arena inside [`with_file`]. Call first thing, before any tree-sitter
/// object exists and before other threads start.
///
/// # Safety
/// No tree-sitter object may exist yet: memory it holds would be freed by
/// a different allocator.
pub unsafe fn install() {
    // SAFETY: one allocator family (mimalloc, malloc's alignment) for
    // everything outside a file's scope; the caller guarantees no
    // tree-sitter object exists yet.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: ts_malloc,
            calloc: ts_calloc,
            realloc: ts_realloc,
            free: ts_free,
        }));
    }
    INSTALLED.store(true, Ordering::Relaxed);
}

/// Whether a file's tree-sitter memory is being taken from the arena on
/// this thread (then trees are forgotten, not deleted).
pub fn in_arena() -> bool {
    in_open(|_| Some(())).is_some()
}

/// Run `f` with this thread's arena closed, so that what tree-sitter
/// allocates in it comes from the ordinary allocator and may outlive the
/// file being parsed: a rule query compiled on first use, in the middle of
/// a file. `f` must not free or grow memory of the open file's trees.
pub fn outside<T>(f: impl FnOnce() -> T) -> T {
    let was_open = ARENA
        .try_with(|a| {
            // SAFETY: as in `in_open`.
            std::mem::replace(unsafe { &mut (*a.get()).open }, false)
        })
        .unwrap_or(false);
    struct Reopen(bool);
    impl Drop for Reopen {
        fn drop(&mut self) {
            if self.0 {
                let _ = ARENA.try_with(|a| {
                    // SAFETY: as in `in_open`.
                    unsafe { (*a.get()).open = true }
                });
            }
        }
    }
    let _reopen = Reopen(was_open);
    f()
}

/// Run `f` with a fresh parser for `language`, its allocations (and those of
/// every tree, cursor and query cursor made in `f`) taken from this
/// thread's arena when [`install`] ran; the arena is reset when `f`
/// returns or unwinds. Returns `None` when the arena is not in use (not
/// installed, or a scope is already open on this thread): the caller then
/// parses as usual.
pub fn with_file<T>(
    language: &tree_sitter::Language,
    f: impl FnOnce(&mut tree_sitter::Parser) -> T,
) -> Option<T> {
    if !INSTALLED.load(Ordering::Relaxed) {
        return None;
    }
    let opened = ARENA
        .try_with(|a| {
            // SAFETY: as in `in_open`.
            let a = unsafe { &mut *a.get() };
            !std::mem::replace(&mut a.open, true)
        })
        .unwrap_or(false);
    if !opened {
        return None;
    }
    struct Close;
    impl Drop for Close {
        fn drop(&mut self) {
            let _ = ARENA.try_with(|a| {
                // SAFETY: as in `in_open`.
                unsafe { &mut *a.get() }.reset()
            });
        }
    }
    let _close = Close;
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(language).ok()?;
    Some(f(&mut parser))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(p: *mut u8, n: usize) -> Vec<u8> {
        // SAFETY: the tests read blocks of at least `n` bytes.
        unsafe { std::slice::from_raw_parts(p, n).to_vec() }
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_keep_their_bytes_when_grown() {
        let mut a = Arena::new();
        a.open = true;
        let p = a.alloc(3);
        // SAFETY: a block of 3 bytes.
        unsafe { std::ptr::copy_nonoverlapping(b"abc".as_ptr(), p, 3) };
        let q = a.alloc(40);
        assert_eq!(p as usize % ALIGN, 0);
        assert_eq!(q as usize % ALIGN, 0);
        assert!(q as usize >= p as usize + 3 + HEADER, "blocks overlap");
        // Within its capacity a block stays where it is.
        assert_eq!(a.realloc(p as usize, 16), p);
        // `p` is not the last block: growing it moves and copies it.
        let p2 = a.realloc(p as usize, 100);
        assert_ne!(p2, p);
        assert_eq!(bytes(p2, 3), b"abc");
        // The last block grows in place.
        let p3 = a.realloc(p2 as usize, 5000);
        assert_eq!(p3, p2);
        assert_eq!(bytes(p3, 3), b"abc");
        assert!(a.contains(p3 as usize) && a.contains(q as usize));
        assert!(!a.contains(&a as *const Arena as usize));
        // The block `p` moved out of is reused for its size class.
        assert_eq!(a.alloc(10), p);
        a.reset();
        assert!(!a.open);
    }

    #[test]
    fn freed_blocks_are_reused_so_churn_does_not_grow_the_arena() {
        let mut a = Arena::new();
        a.open = true;
        for round in 0..10_000 {
            let blocks: Vec<*mut u8> = (1..40).map(|i| a.alloc(i * 24 + round % 7)).collect();
            let big = a.alloc(3000 + round % 500);
            let big = a.realloc(big as usize, 9000);
            for b in blocks.into_iter().chain([big]) {
                a.free(b as usize);
            }
        }
        let held: usize = a.chunks.iter().map(|c| c.1).sum();
        assert_eq!(
            held, FIRST_CHUNK,
            "{held} bytes for a working set of a few KiB"
        );
    }

    #[test]
    fn size_classes_hold_their_size() {
        for size in [0, 1, 15, 16, 17, 1000, 1024, 1025, 4096, 4097, 1 << 30] {
            let (class, cap) = class_of(size).unwrap();
            assert!(cap >= size.max(1) && cap % ALIGN == 0, "{size}");
            assert!(class < CLASSES);
            assert_eq!(class_of(cap), Some((class, cap)), "{size}");
        }
        assert_eq!(class_of(usize::MAX), None);
    }

    #[test]
    fn blocks_larger_than_a_chunk_get_their_own_and_reset_keeps_a_bounded_amount() {
        let mut a = Arena::new();
        a.open = true;
        let big = a.alloc(3 * MAX_CHUNK);
        assert!(!big.is_null());
        // SAFETY: the block holds 3 * MAX_CHUNK bytes; touch both ends.
        unsafe {
            big.write(1);
            big.add(3 * MAX_CHUNK - 1).write(2);
        }
        for _ in 0..40 {
            assert!(!a.alloc(FIRST_CHUNK / 2).is_null());
        }
        let held: usize = a.chunks.iter().map(|c| c.1).sum();
        assert!(held > 3 * MAX_CHUNK);
        a.reset();
        let kept: usize = a.chunks.iter().map(|c| c.1).sum();
        assert!(kept <= KEEP, "{kept} bytes kept");
        // A small file's chunk is kept, and blocks start again at its start.
        a.open = true;
        let p = a.alloc(16);
        a.reset();
        assert_eq!(a.chunks.len(), 1);
        a.open = true;
        assert_eq!(a.alloc(16), p);
        assert_eq!(p as usize, a.chunks[0].0 as usize + HEADER);
    }

    #[test]
    fn sizes_that_overflow_are_refused() {
        let mut a = Arena::new();
        a.open = true;
        assert!(a.alloc(usize::MAX - 4).is_null());
        assert!(a.alloc(usize::MAX / 2).is_null());
    }
}
