//! A bounded mutation fuzzer over every reader of untrusted input (the
//! targets of `threatscan::fuzz`): seeds from the fixtures, mutated by a
//! fixed-seed PRNG, so each CI run explores the same inputs. A panic, an
//! input that takes over 10 s, or one that holds over 1 GiB at once fails
//! the test and names the saved input. Long runs: `THREATSCAN_FUZZ_SECS=1800
//! THREATSCAN_FUZZ_SEED=7 cargo test --release --test fuzz -- --nocapture`
//! (or the coverage-guided `cargo fuzz` targets in `fuzz/`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + (new - l.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const MAX_INPUT_TIME: Duration = Duration::from_secs(10);
const MAX_INPUT_HEAP: usize = 1 << 30;

/// xorshift64*: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens worth inserting, per target: what nests, quotes, breaks lines or
/// starts an entity.
fn dictionary(target: &str) -> &'static [&'static [u8]] {
    match target {
        "python" => &[
            b"(",
            b")",
            b"[",
            b"{",
            b"\n",
            b"\r",
            b"    ",
            b"\"\"\"",
            b"f\"{",
            b"lambda:",
            b"@app.route('/x')\n",
            b"def f(x):\n",
            b"class C:\n",
            b"if x:\n",
            b"\\",
            b"#",
            b"subprocess.run(x, shell=True)\n",
            b"await ",
            b"*",
            b"**",
            b":=",
        ],
        "rust" => &[
            b"(",
            b")",
            b"{",
            b"<",
            b"&",
            b"&&",
            b"::",
            b"\n",
            b"\r",
            b"r#\"",
            b"fn f(",
            b"impl ",
            b"#[get(\"/x\")]\n",
            b"use a::{",
            b"'a",
            b"?",
            b"macro_rules! m {",
            b"/*",
            b"match x {",
        ],
        "markdown" => &[
            b"|",
            b"\n",
            b"\r",
            b"`",
            b"```\n",
            b"[",
            b"](",
            b"#",
            b"- ",
            b"<",
            b"&lt;",
            b"\\",
            b"| Spoofing | mitigated | `app:create` |\n",
            b"https://github.com/a/b/blob/main/app.py#L1-L9",
        ],
        "tm7" => &[
            b"<",
            b">",
            b"</",
            b"&",
            b"&amp;",
            b"&#",
            b"<![CDATA[",
            b"]]>",
            b"\n",
            b"\r",
            b"\"",
            b"<a:Value>",
            b"</a:Value>",
            b"<b:Properties>",
            b"<!--",
            b"<?xml",
        ],
        "rules" => &[
            b"[[rule]]\n",
            b"[[rule.when]]\n",
            b"\n",
            b"\"",
            b"'''",
            b"=",
            b"[",
            b"{",
            b"(",
            b"on = \"query\"\n",
            b"on = \"fact\"\n",
            b"kinds = [\"sink\"]\n",
            b";((((",
        ],
        "baseline" => &[
            b"{",
            b"[",
            b"\"",
            b":",
            b",",
            b"\"runs\":",
            b"\"results\":",
            b"\"partialFingerprints\":",
            b"\"threatscan/v1\":",
            b"\\u",
            b"null",
            b"1e999",
        ],
        "workflow" => &[
            b"\n",
            b"  ",
            b"- ",
            b": ",
            b"|\n",
            b"${{ github.event.issue.title }}",
            b"uses: a/b@v1\n",
            b"run: curl x | sh\n",
            b"&a ",
            b"*a",
            b"[",
            b"{",
            b"\"",
            b"'",
            b"\t",
            b"---\n",
        ],
        _ => &[],
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want: &[&str] = match target {
        "python" => &["py"],
        "rust" => &["rs"],
        "markdown" => &["md"],
        "tm7" => &["tm7"],
        "rules" => &["toml"],
        "baseline" => &["sarif"],
        "workflow" => &["yml", "yaml"],
        _ => &[],
    };
    let mut out = vec![];
    let mut stack: Vec<PathBuf> = vec![root.join("tests/fixtures"), root.join("rules")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| want.contains(&e))
            {
                if let Ok(b) = std::fs::read(&p) {
                    if b.len() < 256 * 1024 {
                        out.push(b);
                    }
                }
            }
        }
    }
    if target == "baseline" {
        out.push(
            br#"{"runs":[{"results":[{"ruleId":"TS1001","partialFingerprints":{"threatscan/v1":"00ff:1"},"locations":[]}]}]}"#
                .to_vec(),
        );
    }
    out.push(vec![]);
    out
}

fn mutate(rng: &mut Rng, input: &[u8], pool: &[Vec<u8>], dict: &[&[u8]]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.next() as u8),
            2 if !v.is_empty() => {
                let n = rng.below(v.len() - at.min(v.len()) + 1).min(64);
                v.drain(at.min(v.len())..(at + n).min(v.len()));
            }
            3 | 4 => {
                let t = dict[rng.below(dict.len())];
                // Sometimes many times over: nesting and long lines.
                let times = if rng.below(8) == 0 {
                    1 + rng.below(2000)
                } else {
                    1
                };
                let chunk: Vec<u8> = t.repeat(times);
                v.splice(at..at, chunk);
            }
            5 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = (a + 1 + rng.below(128)).min(v.len());
                let chunk = v[a..b].to_vec();
                v.splice(at..at, chunk);
            }
            6 => {
                let other = &pool[rng.below(pool.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(512)).min(other.len());
                    v.splice(at..at, other[a..b].iter().copied());
                }
            }
            _ => v.truncate(at),
        }
    }
    v.truncate(1 << 20);
    v
}

fn save(target: &str, data: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let h = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let p = dir.join(format!("{target}-{h:016x}"));
    std::fs::write(&p, data).unwrap();
    p
}

fn fuzz_target(target: &str, budget: Duration, seed: u64) -> u64 {
    let mut pool = seeds(target);
    assert!(!pool.is_empty());
    let dict = dictionary(target);
    let mut rng = Rng((seed ^ (target.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
    let start = Instant::now();
    let mut execs = 0u64;
    let mut i = 0usize;
    while start.elapsed() < budget {
        // Seeds first, unmutated; then mutations of seeds and of earlier
        // mutants (kept now and then, so changes accumulate).
        let input = if i < pool.len() {
            pool[i].clone()
        } else {
            let base = &pool[rng.below(pool.len())];
            mutate(&mut rng, base, &pool, dict)
        };
        i += 1;
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let t0 = Instant::now();
        let r = std::panic::catch_unwind(|| threatscan::fuzz::run(target, &input));
        let took = t0.elapsed();
        let heap = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        if r.is_err() {
            panic!(
                "{target}: panic on input saved at {}",
                save(target, &input).display()
            );
        }
        assert!(
            took < MAX_INPUT_TIME,
            "{target}: {took:?} on input saved at {}",
            save(target, &input).display()
        );
        assert!(
            heap < MAX_INPUT_HEAP,
            "{target}: {} MiB held on input saved at {}",
            heap >> 20,
            save(target, &input).display()
        );
        execs += 1;
        if i > pool.len() && rng.below(16) == 0 && pool.len() < 4096 && input.len() < 256 * 1024 {
            pool.push(input);
        }
    }
    execs
}

#[test]
fn every_reader_survives_mutated_inputs() {
    let secs: u64 = std::env::var("THREATSCAN_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("THREATSCAN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let only = std::env::var("THREATSCAN_FUZZ_TARGET").ok();
    // The run's own stack is as roomy as extraction workers'.
    let h = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            for t in threatscan::fuzz::TARGETS {
                if only.as_deref().is_some_and(|o| o != t) {
                    continue;
                }
                let n = fuzz_target(t, Duration::from_secs(secs), seed);
                eprintln!("fuzz {t}: {n} executions in {secs} s (seed {seed})");
                assert!(n > 0, "{t}: no input ran");
            }
        })
        .unwrap();
    if let Err(e) = h.join() {
        std::panic::resume_unwind(e);
    }
}
