//! A plain random/mutation driver for the fuzz targets, for machines where
//! libFuzzer cannot run (no nightly flags): feeds every seed, then mutations
//! of them (bit flips, byte edits, interesting values, splices) and random
//! inputs to one target for a bounded time, catching panics.
//!
//! `drive <target> <seconds> [seed file or dir]...` prints
//! `target=<t> executions=<n> execs_per_s=<x> crashes=<c> seeds=<s>` and
//! writes each crashing input to `artifacts/<target>/crash-<hash>`; the exit
//! code is 1 when anything crashed. `FUZZ_SEED` fixes the random sequence.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Largest input tried (as libFuzzer's default -max_len for big seeds).
const MAX_LEN: usize = 64 << 10;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&[u8]] = &[
    b"\0",
    b"\n",
    b"\r",
    b"\t",
    b",",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1",
    b"4294967295",
    b"18446744073709551615",
    b"1e308",
    b"\\N",
    b"../",
    b"\xff\xfe",
    b"{\"",
    b"\":",
    b"role",
    b"guest",
    b"host",
    b"arbiter",
    b"components",
    b"module",
    b"input",
    b"output",
    b"data",
    b"model",
    b"job_parameters",
    b"party_id",
    b"component_parameters",
    b"partition",
    b"head",
    b"id_delimiter",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                input.drain(i..i + n);
            }
            4 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                input.splice(i..i, t.iter().copied());
            }
            5 if len > 0 => {
                // Duplicate a range.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let piece = input[i..i + n].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, piece);
            }
            6 if !seeds.is_empty() => {
                // Splice with another seed.
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = a + rng.below(other.len() - a) + 1;
                    let at = rng.below(len + 1);
                    input.truncate(at);
                    input.extend_from_slice(&other[a..b]);
                }
            }
            7 if len > 0 => {
                // Replace a digit run's last digit, to reach bounds.
                let i = rng.below(len);
                if input[i].is_ascii_digit() {
                    input[i] = b'9';
                    input.insert(i, b'9');
                }
            }
            _ => {
                let n = rng.below(4);
                for _ in 0..n {
                    input.push(rng.next() as u8);
                }
            }
        }
    }
    input.truncate(MAX_LEN);
}

fn load(path: &Path, out: &mut Vec<Vec<u8>>) {
    if out.len() >= 20_000 {
        return;
    }
    if path.is_dir() {
        let Ok(rd) = std::fs::read_dir(path) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            load(&e, out);
        }
    } else if let Ok(b) = std::fs::read(path) {
        if b.len() <= MAX_LEN {
            out.push(b);
        }
    }
}

/// The input being run and where to write it if the process aborts (an
/// allocation failure or a stack overflow cannot be caught as a panic).
static CURRENT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static CURRENT_LEN: AtomicUsize = AtomicUsize::new(0);
static ABORT_PATH: AtomicPtr<libc::c_char> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_fatal(sig: libc::c_int) {
    // Only async-signal-safe calls: open, write, close, then die as before.
    unsafe {
        let path = ABORT_PATH.load(Ordering::SeqCst);
        let (p, n) = (
            CURRENT.load(Ordering::SeqCst),
            CURRENT_LEN.load(Ordering::SeqCst),
        );
        if !path.is_null() && !p.is_null() {
            let fd = libc::open(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644);
            if fd >= 0 {
                libc::write(fd, p as *const libc::c_void, n);
                libc::close(fd);
            }
            let msg = b"drive: fatal signal; the input is in artifacts/<target>/crash-fatal\n";
            libc::write(2, msg.as_ptr() as *const libc::c_void, msg.len());
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn arm_fatal_handler(artifacts: &Path) {
    let _ = std::fs::create_dir_all(artifacts);
    let Ok(c) = std::ffi::CString::new(artifacts.join("crash-fatal").display().to_string()) else {
        return;
    };
    ABORT_PATH.store(c.into_raw(), Ordering::SeqCst);
    unsafe {
        libc::signal(libc::SIGABRT, on_fatal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGSEGV, on_fatal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGBUS, on_fatal as *const () as libc::sighandler_t);
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100000001b3)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: drive <target> <seconds> [seed file or dir]...";
    let (Some(name), Some(secs)) = (args.get(1), args.get(2).and_then(|s| s.parse::<f64>().ok()))
    else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Some(&(_, target)) = fedflow_fuzz::TARGETS.iter().find(|(n, _)| n == name) else {
        let names: Vec<&str> = fedflow_fuzz::TARGETS.iter().map(|t| t.0).collect();
        eprintln!("unknown target '{name}' (targets: {})", names.join(", "));
        std::process::exit(2);
    };
    let mut seeds = Vec::new();
    for a in &args[3..] {
        load(Path::new(a), &mut seeds);
    }
    let seed_count = seeds.len();
    let mut rng = Rng(std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E3779B97F4A7C15)
        | 1);
    let artifacts = PathBuf::from("artifacts").join(name);
    arm_fatal_handler(&artifacts);
    let crashed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let crashed = crashed.clone();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut c) = crashed.lock() {
                *c = info.to_string();
            }
        }));
    }
    let deadline = Duration::from_secs_f64(secs);
    let started = Instant::now();
    let (mut execs, mut crashes, mut slowest) = (0u64, 0u64, Duration::ZERO);
    let mut seen_crashes = HashSet::new();
    let mut input = Vec::new();
    while started.elapsed() < deadline {
        input.clear();
        let i = execs as usize;
        if i < seeds.len() {
            input.extend_from_slice(&seeds[i]);
        } else if seeds.is_empty() || rng.below(16) == 0 {
            let n = rng.below(256);
            input.extend((0..n).map(|_| rng.next() as u8));
        } else {
            input.extend_from_slice(&seeds[rng.below(seeds.len())]);
            mutate(&mut rng, &seeds, &mut input);
        }
        CURRENT_LEN.store(input.len(), Ordering::SeqCst);
        CURRENT.store(input.as_mut_ptr(), Ordering::SeqCst);
        let t = Instant::now();
        let r = std::panic::catch_unwind(|| target(&input));
        slowest = slowest.max(t.elapsed());
        CURRENT.store(std::ptr::null_mut(), Ordering::SeqCst);
        execs += 1;
        if r.is_err() {
            crashes += 1;
            let msg = crashed.lock().map(|m| m.clone()).unwrap_or_default();
            let h = fnv(&input);
            if seen_crashes.insert(msg.clone()) {
                let _ = std::fs::create_dir_all(&artifacts);
                let p = artifacts.join(format!("crash-{h:016x}"));
                let _ = std::fs::write(&p, &input);
                eprintln!("crash: {msg}\n  input: {}", p.display());
            }
        }
    }
    let el = started.elapsed().as_secs_f64();
    println!(
        "target={name} executions={execs} execs_per_s={:.0} crashes={crashes} distinct_crashes={} seeds={seed_count} slowest_ms={:.1}",
        execs as f64 / el.max(1e-9),
        seen_crashes.len(),
        slowest.as_secs_f64() * 1000.0
    );
    if crashes > 0 {
        std::process::exit(1);
    }
}
