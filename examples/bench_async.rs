//! Async scale benchmark: 10,000 and 100,000 tasks each waiting 100 ms at the same time on one
//! event loop (one thread), natively. Reports the total wall time against a single wait (the
//! target is <= 1.5x), the peak memory, and what each task costs.
//!
//!     cargo run --release --example bench_async [wait_ms]
//!
//! Kinds of wait: the playground's timer (`tasks::sleep`, which also listens for Stop), the
//! bare `futures-timer` Delay underneath it (to show where the time goes), and a simulated request
//! (`net::fetch` of `sim/delay/...`, answered by the simulated service after the same delay).
//! Each row runs in a fresh process, so its peak memory (VmHWM) is its own.

use futures::executor::block_on;
use futures::future::join_all;
use playground::clock::now_ms;
use playground::engines::{net, tasks};
use playground::run::{Capabilities, Run};

const KINDS: [&str; 3] = ["timer", "bare futures-timer", "simulated request"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--row") {
        // A child: one measurement, printed as one line of numbers.
        let (kind, n, wait_ms) = (args[1].as_str(), args[2].parse().unwrap(), args[3].parse().unwrap());
        let (wall, started, rss_before) = measure(kind, n, wait_ms);
        println!("{wall} {started} {rss_before} {}", status_kb("VmHWM"));
        return;
    }
    let wait_ms: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100.0);
    println!("Concurrent waits of {wait_ms} ms on one event loop (native, one thread)");
    println!();
    println!(
        "{:<20} {:>8} {:>9} {:>7} {:>12} {:>9} {:>12} {:>15}",
        "kind", "tasks", "wall ms", "ratio", "all started", "peak MB", "us per task", "bytes per task"
    );
    let (single, _, _) = measure("timer", 1, wait_ms);
    println!("{:<20} {:>8} {:>9.1} {:>7.2}", "single wait", 1, single, 1.0);
    let exe = std::env::current_exe().expect("own path");
    for kind in KINDS {
        for n in [10_000usize, 100_000] {
            let out = std::process::Command::new(&exe)
                .args(["--row", kind, &n.to_string(), &wait_ms.to_string()])
                .output()
                .expect("runs a child");
            let numbers: Vec<f64> =
                String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|v| v.parse().ok()).collect();
            let [wall, started, rss_before, peak] = numbers[..] else {
                println!("{kind:<20} {n:>8} failed: {}", String::from_utf8_lossy(&out.stderr));
                continue;
            };
            println!(
                "{:<20} {:>8} {:>9.1} {:>7.2} {:>9.1} ms {:>9.1} {:>12.2} {:>15.0}",
                kind,
                n,
                wall,
                wall / single,
                started,
                peak / 1024.0,
                (wall - wait_ms).max(0.0) * 1000.0 / n as f64,
                (peak - rss_before).max(0.0) * 1024.0 / n as f64
            );
        }
    }
    println!();
    println!("ratio = wall / one single wait (target <= 1.5); all started = when the last task began");
    println!("its wait; peak = VmHWM of that row's process; us per task = (wall - one wait) / tasks;");
    println!("bytes per task = (peak - RSS before the tasks) / tasks.");
}

/// Runs `n` concurrent waits of `wait_ms`; returns (wall ms, ms until all had started, RSS kB before).
fn measure(kind: &str, n: usize, wait_ms: f64) -> (f64, f64, f64) {
    let topic = playground::topics::find("async-basics").expect("the async-basics topic exists");
    let run = Run::new(topic.id, &topic.modes, Capabilities { threads: false, cores: 1 });
    let url = format!("sim/delay/{}", wait_ms / 1000.0);
    let rss_before = status_kb("VmRSS");
    let last_started = std::cell::Cell::new(0.0f64);
    let start = now_ms();
    let done = block_on(async {
        let waits = (0..n).map(|_| {
            let (run, url, last_started) = (&run, &url, &last_started);
            async move {
                last_started.set(now_ms());
                match kind {
                    "timer" => tasks::sleep(run, wait_ms).await.is_ok(),
                    "bare futures-timer" => {
                        futures_timer::Delay::new(std::time::Duration::from_secs_f64(wait_ms / 1000.0)).await;
                        true
                    }
                    _ => net::fetch(run, url, wait_ms * 10.0).await.is_ok_and(|r| r.status == 200),
                }
            }
        });
        join_all(waits).await.into_iter().filter(|ok| *ok).count()
    });
    let wall = now_ms() - start;
    assert_eq!(done, n, "every wait finished");
    (wall, last_started.get() - start, rss_before)
}

/// A field of /proc/self/status in kB (0 where there is no /proc).
fn status_kb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0.0)
}
