//! io-compare: many short waits, one after another vs a thread pool vs async tasks.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "io-compare",
        title: "I/O-bound work: sequential, threads, async",
        chapter: Chapter::Foundations,
        summary: "Ten waits of 100 ms: one after another (~1 s), on a pool of threads or as async tasks (~0.1 s).",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("count", "Waits (N)", 10, 1, 1000),
            Param::int("latency_ms", "Latency per wait (ms)", 100, 1, 5000),
            Param::int("pool", "Pool size (P)", 10, 1, 64),
        ],
        presets: vec![Preset { id: "small-pool", label: "Pool of 3", values: json!({"pool": 3}) }],
        modes: vec![
            Mode::new("sequential", "Sequential", Model::Sequential),
            Mode::new("threads", "Thread pool (P threads)", Model::Threads),
            Mode::new("gil", "Thread pool under the GIL", Model::Threads),
            Mode::new("async", "Async tasks", Model::Async),
        ],
        code: crate::topic_code!("io_compare/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| {
            let p: IoCompareParams = p.read();
            let total = (p.count as f64 * p.latency_ms) as i64;
            if total > 120_000 {
                return Err(crate::params::FieldError::new(
                    "latency_ms",
                    format!("N x latency is {} ms; keep the sequential run at most 120,000 ms", crate::params::group(total)),
                ));
            }
            Ok(())
        },
        run: |run, params| Box::pin(run_io_compare(run, params.read())),
        needs: |p| {
            let p: IoCompareParams = p.read();
            Needs::threads(p.pool.min(p.count))
        },
        reads: reads::<IoCompareParams>,
    }
}

/// Predict, then run: which way of waiting finishes first.
pub fn prompts() -> Vec<crate::predict::Prompt> {
    vec![crate::predict::Prompt::fastest("first", "Which will finish first?", &topic().modes)]
}

// CODE START
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::engines::gil::Gil;
use crate::engines::{tasks, threads};
use crate::topics::kernels::sum_squares;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IoCompareParams {
    count: usize,
    latency_ms: f64,
    pool: usize,
}

async fn run_io_compare(run: Run, p: IoCompareParams) -> RunResult<()> {
    let (n, latency, pool) = (p.count, p.latency_ms, p.pool);

    let sequential = run.measure("sequential", async {
        for i in 0..n {
            run.timed_async("main", &format!("wait {}", i + 1), SpanKind::Io, tasks::sleep(&run, latency)).await?;
        }
        Ok(())
    });
    if sequential.await?.is_some() {
        run.result("sequential", format!("{n} waits done"));
    }
    let mut startup = [0.0; 2];
    for (k, (mode, gil)) in [("threads", Gil::new(false, 0.0)), ("gil", Gil::new(true, 5.0))].into_iter().enumerate() {
        let gil = Arc::new(gil);
        let pool_from = run.now();
        if let Some((done, last_start)) = run.measure(mode, thread_pool(&run, n, latency, pool, gil.clone())).await? {
            startup[k] = last_start - pool_from;
            run.result(mode, format!("{done} waits done"));
            let switches = if gil.enabled() { format!("; the GIL changed hands {} times", gil.switches()) } else { String::new() };
            run.note(mode, format!("{:.0} ms until the last thread had started{switches}", startup[k]));
        }
    }
    let gathered = run.measure("async", async {
        let waits = (0..n).map(|i| {
            let run = &run;
            async move {
                run.timed_async(&format!("task {}", i + 1), "await sleep", SpanKind::Io, tasks::sleep(run, latency))
                    .await
            }
        });
        futures::future::try_join_all(waits).await.map(|done| done.len())
    });
    if let Some(done) = gathered.await? {
        run.result("async", format!("{done} waits done"));
    }

    // Compare with the ideal times, allowing for timer and start-up overhead.
    let ideal = |mode: &str| match mode {
        "sequential" => n as f64 * latency,
        "threads" | "gil" => n.div_ceil(pool) as f64 * latency,
        _ => latency,
    };
    for mode in ["sequential", "threads", "gil", "async"] {
        if let Some(wall) = run.wall_ms(mode) {
            // Starting threads is not waiting: it is shown and allowed for separately.
            let start_up = match mode {
                "threads" => startup[0],
                "gil" => startup[1],
                _ => 0.0,
            };
            let expected = ideal(mode) + start_up;
            run.verify(
                wall >= ideal(mode) * 0.95 && wall <= expected * 1.5 + 60.0,
                format!(
                    "{mode}: {wall:.0} ms, ideal {expected:.0} ms{}",
                    if start_up > 0.0 { " (waits + thread start-up)" } else { "" }
                ),
            );
        }
    }
    Ok(())
}

/// P threads take waits from one queue; each wait blocks its thread (like time.sleep). Around
/// each wait a thread runs a little code while holding `gil` (when it is on), as a Python thread
/// prepares a request and handles its answer; the wait itself releases it.
/// Returns how many waits ran and when the last thread had started (thread start-up is real
/// work in a browser: each thread is a Web Worker).
async fn thread_pool(run: &Run, n: usize, latency: f64, pool: usize, gil: Arc<Gil>) -> RunResult<(usize, f64)> {
    let queue = Arc::new(Mutex::new((0..n).collect::<VecDeque<_>>()));
    let mut handles = Vec::new();
    for t in 0..pool.min(n) {
        let (run2, queue, gil) = (run.clone(), queue.clone(), gil.clone());
        let lane = format!("thread {}", t + 1);
        handles.push(threads::spawn_traced(run, lane.clone(), move || -> RunResult<(usize, f64)> {
            let started = run2.now();
            let mut done = 0;
            loop {
                // Take the next wait and let go of the queue before waiting.
                let Some(i) = queue.lock().unwrap().pop_front() else { break };
                if gil.enabled() {
                    gil.hold(&run2, t, &lane, "prepare (GIL)", || sum_squares(0, 20_000))?;
                }
                run2.timed(&lane, &format!("wait {}", i + 1), SpanKind::Io, || threads::sleep(&run2, latency))?;
                if gil.enabled() {
                    gil.hold(&run2, t, &lane, "handle answer (GIL)", || sum_squares(0, 20_000))?;
                }
                done += 1;
            }
            Ok((done, started))
        })?);
    }
    let (mut done, mut last_start) = (0, 0.0f64);
    for outcome in threads::join_all(handles).await? {
        let (count, started) = outcome?;
        done += count;
        last_start = last_start.max(started);
    }
    Ok((done, last_start))
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck { output: |out, _| expect_eq("waits", after(out, "waits ")?, 10), ..ProgramCheck::AS_WRITTEN }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native_timed;
    use serde_json::json;

    #[test]
    fn waits_overlap_in_threads_and_async() {
        let params = json!({"count": 6, "latency_ms": 40, "pool": 3});
        let report = run_native_timed("io-compare", params, true);
        assert_eq!(report.status, RunStatus::Ok);
        let wall = |id: &str| report.modes.iter().find(|m| m.id == id).unwrap().wall_ms.unwrap();
        assert!(wall("sequential") >= 240.0);
        // Waits overlap (the GIL is released while a thread waits): clearly under the sequential sum.
        for mode in ["threads", "gil", "async"] {
            assert!(wall(mode) < wall("sequential") * 0.75, "{mode}: {} vs {}", wall(mode), wall("sequential"));
        }
        assert!(wall("threads") >= 80.0 && wall("gil") >= 80.0 && wall("async") >= 40.0);
        assert_eq!(report.modes.iter().find(|m| m.id == "async").unwrap().lanes, 6);
    }
}
