//! mixed: async I/O first, then CPU work handed to a worker pool, with a heartbeat on the loop.

use serde_json::json;

use crate::params::{Param, Params};
use crate::topic::{no_check, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "mixed",
        title: "Mixing async I/O and CPU work",
        chapter: Chapter::Async,
        summary: "Fetch inputs concurrently, then count primes on a worker pool while a heartbeat shows the event loop stays free; or run it on the loop and watch it stall.",
        explanation: crate::prose!("Real programs mix both kinds of work: first wait for data (requests), then compute on it. Async is the right tool for the waiting, but an event loop has one thread: while it computes, nothing else on it runs. No timer fires, no answer is read, no button is handled.\n\n\
A heartbeat task makes that visible. Every 15 ms it asks for a timer and measures how late it wakes up. While the loop is free the delay stays near zero.\n\n\
In the pool variant the inputs are fetched concurrently, then the prime counting is sent to isolated workers (run_in_executor with a process pool in Python) and awaited: the loop only waits for their answers, and the heartbeat keeps beating. In the on-loop variant the same counting runs directly on the loop, in one plain loop with no await inside: the heartbeat stops for the whole computation and its delay jumps to the time the computation took.\n\n\
The short reference page gets the loop with asyncio.get_event_loop() inside a coroutine: it works there, but asyncio.get_running_loop() is the call the docs recommend, and outside a running loop get_event_loop() raises RuntimeError since Python 3.14.\n\n\
Sources: the short reference page (process_batch: run_in_executor with a ProcessPoolExecutor) and the long tour (fetching with aiohttp); Python docs: asyncio (Event loop: run_in_executor, get_running_loop; gather), concurrent.futures (ProcessPoolExecutor)."),
        params: vec![
            Param::int("inputs", "Inputs to fetch", 4, 1, 16),
            Param::int("limit", "Count primes below", 4_000_000, 1000, 10_000_000).help("Split into one range per input."),
            Param::int("workers", "Pool workers", 2, 1, 16).per_core(1),
            Param::float("fetch_delay_s", "Request delay (s)", 0.2, 0.0, 5.0, 0.05),
        ],
        presets: vec![Preset { id: "heavy", label: "Primes below 8,000,000", values: json!({"limit": 8_000_000}) }],
        modes: vec![
            Mode::new("pool", "Fetch, then CPU on a worker pool", Model::Workers),
            Mode::new("on-loop", "Fetch, then CPU on the event loop", Model::Async),
        ],
        code: crate::topic_code!("mixed/mod.rs"),
        python: crate::prose!(PYTHON),
        check: no_check,
        run: |run, params| Box::pin(run_mixed(run, params)),
        needs: |p| Needs::workers(p.count("workers").min(p.count("inputs"))),
    }
}

const PYTHON: &str = r#"import asyncio, os, time
from concurrent.futures import ProcessPoolExecutor
import aiohttp                            # pip install aiohttp

BASE = os.environ.get("PLAYGROUND_BASE", "https://httpbin.org")
INPUTS = 4                                # requests, each names a range to count primes in
LIMIT = 300_000                           # count primes below this, sized for CPython (the page's run: 4_000_000)
WORKERS = os.cpu_count()                  # one process per core
FETCH_DELAY_S = 0.2                       # the simulated service waits this long (httpbin only echoes it back)

def count_primes(lo, hi):                 # CPU-bound: runs in another process
    return sum(all(n % d for d in range(2, int(n**0.5) + 1)) for n in range(max(lo, 2), hi))

async def heartbeat(delays):
    while True:
        planned = time.perf_counter() + 0.015
        await asyncio.sleep(0.015)
        delays.append(time.perf_counter() - planned)   # how late the loop woke us

async def main():
    delays = []
    beat = asyncio.create_task(heartbeat(delays))
    step = -(-LIMIT // INPUTS)
    async with aiohttp.ClientSession() as session:
        async def get(url):
            async with session.get(url) as r:
                return (await r.json())["args"]
        ranges = await asyncio.gather(*(get(f"{BASE}/get?lo={k*step}&hi={min((k+1)*step, LIMIT)}&delay={FETCH_DELAY_S}")
                                        for k in range(INPUTS)))
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(WORKERS) as pool:
        counts = await asyncio.gather(*(loop.run_in_executor(pool, count_primes, int(r["lo"]), int(r["hi"]))
                                        for r in ranges))
    # count_primes(...) called directly here would block the loop: max(delays) would jump
    beat.cancel()
    print(sum(counts), "primes; worst heartbeat delay", max(delays))

if __name__ == "__main__":
    asyncio.run(main())
"#;

// CODE START
use std::cell::Cell;

use crate::engines::workers::{Job, Pool};
use crate::engines::{net, tasks};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::primes_in;

const BEAT_MS: f64 = 15.0;

/// Ticks every 15 ms until `done`, recording how late each wake-up was; returns the worst delay.
async fn heartbeat(run: &Run, series: &str, done: &Cell<bool>) -> RunResult<f64> {
    let mut worst = 0.0f64;
    while !done.get() {
        let start = run.now();
        let planned = start + BEAT_MS;
        tasks::sleep(run, BEAT_MS).await?;
        let late = (run.now() - planned).max(0.0);
        run.span("heartbeat", "tick", SpanKind::Io, start, planned);
        if late > 1.0 {
            run.span("heartbeat", format!("woke {late:.0} ms late"), SpanKind::Wait, planned, run.now());
        }
        run.sample("event-loop delay", series, ("time (ms)", "heartbeat delay (ms)"), (run.now(), late));
        worst = worst.max(late);
    }
    Ok(worst)
}

/// Fetches every input concurrently; each answer is a JSON echo of the range it names.
async fn fetch_inputs(run: &Run, ranges: &[(u64, u64)], delay_s: f64) -> RunResult<Vec<(u64, u64)>> {
    let requests = ranges.iter().enumerate().map(|(k, &(lo, hi))| async move {
        let url = format!("sim/get?lo={lo}&hi={hi}&delay={delay_s}");
        let lane = format!("task {}", k + 1);
        let answer = run
            .timed_async(&lane, &format!("GET input {}", k + 1), SpanKind::Io, net::fetch(run, &url, 10_000.0))
            .await;
        run.check()?;
        let body: serde_json::Value = serde_json::from_str(&answer?.body).map_err(|e| e.to_string())?;
        let bound = |key: &str| body["args"][key].as_str().and_then(|v| v.parse::<u64>().ok()).ok_or("bad input");
        Ok::<_, crate::run::RunError>((bound("lo")?, bound("hi")?))
    });
    futures::future::try_join_all(requests).await
}

async fn run_mixed(run: Run, p: Params) -> RunResult<()> {
    let (k, limit, delay_s) = (p.int("inputs") as u64, p.int("limit") as u64, p.float("fetch_delay_s"));
    let ranges: Vec<(u64, u64)> = (0..k).map(|i| (limit * i / k, limit * (i + 1) / k)).collect();
    let mut answers = Vec::new();
    let mut worst = Vec::new();

    for mode in ["pool", "on-loop"] {
        let done = Cell::new(false);
        let work = async {
            let inputs = fetch_inputs(&run, &ranges, delay_s).await;
            run.log("main", format!("fetched {k} inputs concurrently at {:.0} ms", run.now()));
            if mode == "pool" {
                run.log("main", "counting primes on the worker pool; the loop only awaits the answers");
            } else {
                run.log("main", "counting primes right here on the loop, with no await inside");
            }
            let counted = match inputs {
                Err(e) => Err(e),
                Ok(inputs) if mode == "pool" => on_pool(&run, &inputs, p.count("workers")).await,
                Ok(inputs) => Ok(on_the_loop(&run, &inputs)),
            };
            done.set(true); // the heartbeat stops after its next tick
            counted
        };
        let outcome = run.measure(mode, async {
            let (counted, worst_delay) = futures::join!(work, heartbeat(&run, mode, &done));
            Ok((counted?, worst_delay?))
        });
        let Some(((primes, cpu_ms), worst_delay)) = outcome.await? else { continue };
        run.log("heartbeat", format!("{mode}: worst wake-up delay {worst_delay:.0} ms"));
        run.result(mode, format!("{primes} primes below {limit}"));
        run.note(mode, format!("CPU {cpu_ms:.0} ms; worst heartbeat delay {worst_delay:.0} ms"));
        run.value(&format!("{mode}_max_delay_ms"), worst_delay);
        run.value(&format!("{mode}_cpu_ms"), cpu_ms);
        answers.push(primes);
        worst.push((mode, worst_delay, cpu_ms));
    }

    for &(mode, delay, cpu_ms) in &worst {
        if mode == "pool" {
            // A busy machine delays any timer a little; "low" is small next to the work itself.
            let low = (cpu_ms / 5.0).max(50.0);
            run.verify(
                delay < low,
                format!("pool: the loop stayed responsive (worst heartbeat delay {delay:.0} ms, under {low:.0} ms)"),
            );
        } else {
            run.verify(
                delay >= cpu_ms * 0.8 - BEAT_MS,
                format!("on the loop: the heartbeat stalled {delay:.0} ms while the loop computed for {cpu_ms:.0} ms"),
            );
        }
    }
    if let [(_, pool, _), (_, on_loop, cpu_ms)] = worst[..] {
        if cpu_ms < 100.0 {
            run.note("on-loop", "the computation is too short to stall the loop for long: raise the limit");
        } else {
            run.verify(
                on_loop > 3.0 * pool,
                format!("the on-loop stall ({on_loop:.0} ms) is far longer than the worst delay with the pool ({pool:.0} ms)"),
            );
        }
    }
    run.verify(answers.windows(2).all(|w| w[0] == w[1]), format!("both variants count the same primes ({answers:?})"));
    if let Some(&primes) = answers.first() {
        run.value("primes", primes);
    }
    Ok(())
}

/// The CPU work goes to isolated workers; this task only awaits their answers.
async fn on_pool(run: &Run, inputs: &[(u64, u64)], workers: usize) -> RunResult<(usize, f64)> {
    let pool = Pool::start(run, workers.min(inputs.len())).await?;
    let start = run.now();
    let counts = pool.map(run, &PRIMES, inputs.to_vec(), |i| format!("primes in range {}", i + 1)).await?;
    let cpu_ms = run.now() - start;
    let mut total = 0;
    for count in counts {
        total += count?;
    }
    Ok((total, cpu_ms))
}

/// The same work right on the loop, in one plain loop with no await: nothing else runs meanwhile.
fn on_the_loop(run: &Run, inputs: &[(u64, u64)]) -> (usize, f64) {
    let start = run.now();
    let total = inputs.iter().map(|&(lo, hi)| primes_in(lo, hi).len()).sum();
    run.span("main", "count primes (blocks the loop)", SpanKind::Run, start, run.now());
    (total, run.now() - start)
}

/// What a pool worker does: a range in, how many primes lie in it out.
pub static PRIMES: Job<(u64, u64), usize> =
    Job { name: "mixed/primes", run: |(lo, hi)| Ok(primes_in(lo, hi).len()), warm_up: || (0, 20_000) };
// CODE END

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native_timed;
    use serde_json::json;

    #[test]
    fn heartbeat_stays_low_on_the_pool_and_stalls_on_the_loop() {
        let params = json!({"inputs": 2, "limit": 600_000, "workers": 2, "fetch_delay_s": 0.03});
        let report = run_native_timed("mixed", params, false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["primes"], 49_098);
        let v = |k: &str| report.values[k].as_f64().unwrap();
        assert!(v("on-loop_cpu_ms") > 30.0, "the test needs a visible computation: {}", v("on-loop_cpu_ms"));
        assert!(v("pool_max_delay_ms") < v("on-loop_max_delay_ms") / 2.0);
        assert!(v("on-loop_max_delay_ms") >= v("on-loop_cpu_ms") * 0.8 - 15.0);
        assert_eq!(report.series.len(), 2);
    }
}
