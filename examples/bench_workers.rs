//! Native isolated-worker benchmark: worker spawn + init, message round trips (tiny and 1 MB),
//! the process-pool "large" preset (primes below 10,000,000 in 16 ranges) on 1 and 2 workers,
//! and, when python3 is here, the same primes with CPython's multiprocessing.Pool(1) and Pool(2).
//!
//!     cargo run --release --example bench_workers
//!
//! Natively a worker is a thread that only talks by messages, so spawn and message figures are far
//! below the browser's (a Web Worker loading its own wasm instance); the browser bench measures those.
//! BENCH_PRIMES_LIMIT=1000000 makes the primes part (and the Python one, ~50 s at 10M) shorter.

use std::process::Command;

use futures::executor::block_on;
use playground::clock::now_ms;
use playground::engines::workers::{Job, Pool};
use playground::run::{Capabilities, Run};
use playground::topics;
use playground::topics::kernels::{primes_in, split};

// The bench's own jobs (a native worker runs the job it is handed, so they need no registering).
static ECHO: Job<Vec<u8>, Vec<u8>> = Job { name: "bench/echo", run: Ok, warm_up: Vec::new };
static PRIMES: Job<(u64, u64), Vec<u64>> =
    Job { name: "bench/primes", run: |(lo, hi)| Ok(primes_in(lo, hi)), warm_up: || (0, 1000) };

fn main() {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let limit: u64 = std::env::var("BENCH_PRIMES_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let ranges = 16u64;
    let topic = topics::find("process-pool").expect("process-pool is in the catalog");
    let run = Run::new(topic.id, &topic.modes, Capabilities { threads: false, cores });
    println!("Isolated workers, native ({cores} cores)");
    println!();
    println!("{:<52} {:>12} {:>12} {:>12}", "measurement", "median", "min", "max");

    // Spawn + init: start a one-worker pool and wait for its first answer.
    let spawn: Vec<f64> = (0..20)
        .map(|_| {
            let t0 = now_ms();
            let pool = block_on(Pool::start_cold(&run, 1)).expect("pool starts");
            block_on(pool.run_job(&run, 0, &ECHO, &Vec::new(), "probe")).expect("probe");
            now_ms() - t0
        })
        .collect();
    row("worker spawn + init + first answer", &spawn, ms);

    let pool = block_on(Pool::start(&run, 1)).expect("pool starts");
    for (label, size) in [("round trip, 1-byte message", 1usize), ("round trip, 1 MB message (echoed)", 1 << 20)] {
        let payload = vec![b'x'; size];
        let times: Vec<f64> = (0..30)
            .map(|_| {
                let t0 = now_ms();
                let done = block_on(pool.run_job(&run, 0, &ECHO, &payload, "echo")).expect("echo");
                assert_eq!(done.output.map(|o| o.len()), Ok(size));
                now_ms() - t0
            })
            .collect();
        row(label, &times, ms);
    }
    drop(pool);

    // The process-pool large preset, straight through the pool.
    println!();
    let calls = split(0, limit, ranges);
    let mut rust_ms = Vec::new();
    for workers in [1, 2] {
        let t0 = now_ms();
        let pool = block_on(Pool::start(&run, workers)).expect("pool starts");
        let answers = block_on(pool.map(&run, &PRIMES, calls.clone(), |k| format!("range {k}"))).unwrap();
        let count: usize = answers.into_iter().map(|a| a.unwrap().len()).sum();
        let wall = now_ms() - t0;
        rust_ms.push(wall);
        println!("primes below {limit} in {ranges} ranges, {workers} worker(s): {count} primes in {:.0} ms", wall);
    }
    println!("speedup with 2 workers: {:.2}x", rust_ms[0] / rust_ms[1]);

    // The same in CPython, when it is here.
    println!();
    match python(limit, ranges) {
        Some(py_ms) => {
            for (k, workers) in [1, 2].iter().enumerate() {
                println!(
                    "CPython multiprocessing.Pool({workers}): {:.0} ms, {:.1}x the Rust pool's time",
                    py_ms[k],
                    py_ms[k] / rust_ms[k]
                );
            }
            println!("CPython speedup with 2 processes: {:.2}x", py_ms[0] / py_ms[1]);
        }
        None => println!("python3 not found (or failed): CPython comparison skipped"),
    }
}

const PYTHON: &str = r#"
import sys, time
from multiprocessing import Pool

def is_prime(n):
    if n < 2: return False
    if n % 2 == 0: return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0: return False
        d += 2
    return True

def primes_in(lo, hi):
    return [n for n in range(lo, hi) if is_prime(n)]

if __name__ == "__main__":
    limit, parts = int(sys.argv[1]), int(sys.argv[2])
    ranges = [(limit * k // parts, limit * (k + 1) // parts) for k in range(parts)]
    for workers in (1, 2):
        start = time.perf_counter()
        with Pool(workers) as pool:
            count = sum(len(c) for c in pool.starmap(primes_in, ranges))
        print(workers, count, (time.perf_counter() - start) * 1000, flush=True)
"#;

/// Runs the CPython version; returns its wall times (ms) for Pool(1) and Pool(2).
fn python(limit: u64, ranges: u64) -> Option<Vec<f64>> {
    let script = std::env::temp_dir().join(format!("bench_workers_{}.py", std::process::id()));
    std::fs::write(&script, PYTHON).ok()?;
    println!("running CPython (this takes a while at 10,000,000)...");
    let out = Command::new("python3").arg(&script).arg(limit.to_string()).arg(ranges.to_string()).output();
    let _ = std::fs::remove_file(&script);
    let out = out.ok().filter(|o| o.status.success())?;
    let times: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            println!("  CPython Pool({}): {} primes", f.first()?, f.get(1)?);
            f.get(2)?.parse().ok()
        })
        .collect();
    (times.len() == 2).then_some(times)
}

fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{:.1} us", v * 1000.0)
    } else {
        format!("{v:.2} ms")
    }
}

fn row(label: &str, values: &[f64], show: impl Fn(f64) -> String) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (min, max, median) = (sorted[0], sorted[sorted.len() - 1], sorted[sorted.len() / 2]);
    println!("{label:<52} {:>12} {:>12} {:>12}", show(median), show(min), show(max));
}
