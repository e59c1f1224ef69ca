//! mixed: async I/O first, then CPU work handed to a worker pool, with a heartbeat on the loop.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "mixed",
        title: "Mixing async I/O and CPU work",
        chapter: Chapter::Async,
        summary: "Fetch inputs concurrently, then count primes on a worker pool while a heartbeat shows the event loop stays free; or run it on the loop and watch it stall.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
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
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_mixed(run, params.read())),
        needs: |p| {
            let p: MixedParams = p.read();
            Needs::workers(p.workers.min(p.inputs as usize))
        },
        reads: reads::<MixedParams>,
    }
}

// CODE START
use std::cell::Cell;

use serde::Deserialize;

use crate::engines::workers::{Job, Pool};
use crate::engines::{net, tasks};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};
use crate::topics::kernels::primes_in;

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MixedParams {
    inputs: u64,
    limit: u64,
    workers: usize,
    fetch_delay_s: f64,
}

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

async fn run_mixed(run: Run, p: MixedParams) -> RunResult<()> {
    let (k, limit, delay_s) = (p.inputs, p.limit, p.fetch_delay_s);
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
                Ok(inputs) if mode == "pool" => on_pool(&run, &inputs, p.workers).await,
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

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"limit": 300_000})),
        output: |out, r| expect_eq("primes", out.split(" primes").next().unwrap_or("").trim(), value(r, "primes")),
        sized_for_cpython: &["limit"],
        ..ProgramCheck::AS_WRITTEN
    }
};

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
