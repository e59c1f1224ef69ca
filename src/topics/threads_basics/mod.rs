//! threads-basics: start two threads that each wait, join them; a thread that prints numbers
//! while the main flow prints letters.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "threads-basics",
        title: "Threads: start, wait, join",
        chapter: Chapter::Threads,
        summary: "Two threads that each wait finish in the time of one wait; a printing thread interleaves with the main flow.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("wait_ms", "Wait per thread (ms)", 2000, 1, 10_000).help("How long each of the two threads waits."),
            Param::int("numbers", "Numbers to print", 5, 1, 50),
            Param::int("gap_ms", "Pause between prints (ms)", 400, 1, 2000),
            Param::float("time_scale", "Time scale", 0.25, 0.01, 1.0, 0.01)
                .help("Multiplies every wait, so a run stays short; 1 restores the original durations."),
        ],
        presets: vec![Preset { id: "original", label: "Original durations (2 s waits)", values: json!({"time_scale": 1.0}) }],
        modes: vec![
            Mode::new("sequential", "The two waits one after another", Model::Sequential),
            Mode::new("threads", "Two threads, started then joined", Model::Threads),
            Mode::new("printer", "A thread printing numbers", Model::Threads),
        ],
        code: crate::topic_code!("threads_basics/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_threads_basics(run, params.read())),
        needs: |_| Needs::threads(3),
        reads: reads::<ThreadsBasicsParams>,
    }
}

// CODE START
use serde::Deserialize;

use crate::engines::{tasks, threads};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadsBasicsParams {
    wait_ms: f64,
    numbers: usize,
    gap_ms: f64,
    time_scale: f64,
}

async fn run_threads_basics(run: Run, p: ThreadsBasicsParams) -> RunResult<()> {
    let wait = p.wait_ms * p.time_scale;
    let gap = p.gap_ms * p.time_scale;
    let numbers = p.numbers;

    // Baseline: the same two waits, one after the other, on the main flow.
    let sequential = run.measure("sequential", async {
        for name in ["wait A", "wait B"] {
            run.timed_async("main", name, SpanKind::Io, tasks::sleep(&run, wait)).await?;
        }
        Ok(())
    });
    if sequential.await?.is_some() {
        run.result("sequential", "2 waits, one after another");
        let wall = run.wall_ms("sequential").unwrap_or_default();
        run.verify(
            wall >= 2.0 * wait,
            format!("one after another, the two waits took {wall:.0} ms: both of them ({:.0} ms)", 2.0 * wait),
        );
    }

    if let Some(threads) = run.measure("threads", two_threads(&run, wait)).await? {
        let names: Vec<&str> = threads.iter().map(|t| t.name).collect();
        run.result("threads", format!("joined {}", names.join(" and ")));
        // From the first wait starting to the last one ending: one wait if they overlapped.
        let first = threads.iter().map(|t| t.waited.0).fold(f64::INFINITY, f64::min);
        let last = threads.iter().map(|t| t.waited.1).fold(f64::NEG_INFINITY, f64::max);
        let startup = threads.iter().map(|t| t.started - t.asked).fold(0.0, f64::max);
        let wall = run.wall_ms("threads").unwrap_or_default();
        run.note("threads", format!("starting a thread took up to {startup:.1} ms"));
        run.verify(names.len() == 2, "both threads ran and were joined");
        run.verify(
            last - first >= wait && last - first < 1.5 * wait,
            format!(
                "the two waits overlapped: together they took {:.0} ms, about one wait ({wait:.0} ms), not two ({:.0} ms)",
                last - first,
                2.0 * wait
            ),
        );
        run.value("threads_finished", names);
        run.value("threads_ms", wall);
        run.value("waits_ms", last - first);
        run.value("startup_ms", startup);
        run.value("one_wait_ms", wait);
    }

    if let Some((order, thread_lines)) = run.measure("printer", printer(&run, numbers, gap)).await? {
        run.result("printer", format!("{thread_lines} numbers printed by the thread, {numbers} letters by main"));
        let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
        run.note("printer", format!("output switched between the two {switches} times"));
        run.verify(thread_lines == numbers, format!("the thread printed all {numbers} numbers"));
        run.value("printer_order", order);
    }
    Ok(())
}

/// What one thread recorded: when it was asked to start, when it started, when it waited.
struct Waited {
    name: &'static str,
    asked: f64,
    started: f64,
    waited: (f64, f64),
}

/// Starts two threads that each wait, then joins both.
async fn two_threads(run: &Run, wait: f64) -> RunResult<Vec<Waited>> {
    let mut handles = Vec::new();
    for name in ["thread A", "thread B"] {
        let run = run.clone();
        run.log("main", format!("starting {name}"));
        let asked = run.now();
        handles.push(threads::spawn(name, move || -> RunResult<Waited> {
            let started = run.now();
            run.span(name, "thread starting", SpanKind::Spawn, asked, started);
            run.log(name, "starting");
            run.timed(name, "wait", SpanKind::Io, || threads::sleep(&run, wait))?;
            run.log(name, format!("done after {wait:.0} ms"));
            Ok(Waited { name, asked, started, waited: (started, run.now()) })
        })?);
    }
    run.log("main", "joining both threads");
    let joined = run.timed_async("main", "join A and B", SpanKind::Wait, threads::join_all(handles)).await?;
    let waited = joined.into_iter().collect::<RunResult<Vec<_>>>()?;
    run.log("main", "both joined");
    Ok(waited)
}

/// A thread prints numbers while the main flow prints letters; returns who printed each line,
/// in the order the lines appeared, and how many the thread printed.
async fn printer(run: &Run, numbers: usize, gap: f64) -> RunResult<(Vec<&'static str>, usize)> {
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (run2, order2) = (run.clone(), order.clone());
    let handle = threads::spawn("printer", move || -> RunResult<usize> {
        for i in 1..=numbers {
            order2.lock().unwrap().push("thread");
            run2.log("printer", format!("number {i}"));
            run2.timed("printer", "sleep", SpanKind::Io, || threads::sleep(&run2, gap))?;
        }
        Ok(numbers)
    })?;
    for letter in ('a'..='z').cycle().take(numbers) {
        order.lock().unwrap().push("main");
        run.log("main", format!("letter {letter}"));
        run.timed_async("main", "sleep", SpanKind::Io, tasks::sleep(run, gap)).await?;
    }
    let printed = run.timed_async("main", "join printer", SpanKind::Wait, handle.join()).await??;
    let order = order.lock().unwrap().clone();
    Ok((order, printed))
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            expect_eq("numbers printed", count_lines(out, "number "), 5)?;
            expect_eq("threads done", count_lines(out, ": done after"), 2)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{ModeStatus, Report, RunStatus, SpanKind};
    use crate::runner::testing::{run_native, run_native_until};
    use serde_json::json;

    #[test]
    fn both_threads_show_and_the_total_is_one_wait_not_two() {
        let params = json!({"wait_ms": 1000, "time_scale": 0.15, "numbers": 3, "gap_ms": 100});
        let wall = |report: &Report, id: &str| report.modes.iter().find(|m| m.id == id).unwrap().wall_ms.unwrap();
        // One wait is 150 ms: the threads take about one, the sequential baseline two.
        let timed = |r: &Report| {
            let waits_ms = r.values["waits_ms"].as_f64().unwrap_or(0.0);
            wall(r, "sequential") >= 300.0
                && wall(r, "threads") >= 150.0
                && wall(r, "threads") < wall(r, "sequential")
                && (150.0..290.0).contains(&waits_ms)
        };
        let report = run_native_until("threads-basics", params, true, timed);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        // The output shows both threads starting and finishing.
        for lane in ["thread A", "thread B"] {
            let lines: Vec<&str> = report.log.iter().filter(|l| l.lane == lane).map(|l| l.text.as_str()).collect();
            assert_eq!(lines.first(), Some(&"starting"), "{lane}: {lines:?}");
            assert!(lines.last().unwrap().starts_with("done"), "{lane}: {lines:?}");
        }
        assert!(timed(&report), "{:?} {:?}", report.modes, report.values["waits_ms"]);
        // The two waits really overlapped in time.
        let waits: Vec<_> = report.spans.iter().filter(|s| s.mode == "threads" && s.label == "wait").collect();
        assert_eq!(waits.len(), 2);
        assert!(waits[0].start < waits[1].end && waits[1].start < waits[0].end);
        // Joining is drawn as waiting on the main lane.
        assert!(report.spans.iter().any(|s| s.mode == "threads" && s.lane == "main" && s.kind == SpanKind::Wait));
        // The printer printed 3 numbers and main 3 letters, interleaved.
        let order = report.values["printer_order"].as_array().unwrap();
        assert_eq!(order.iter().filter(|o| *o == "thread").count(), 3);
        assert_eq!(order.iter().filter(|o| *o == "main").count(), 3);
    }

    #[test]
    fn without_threads_the_baseline_still_runs() {
        let report =
            run_native("threads-basics", json!({"wait_ms": 100, "time_scale": 0.1, "numbers": 1, "gap_ms": 1}), false);
        let status: Vec<ModeStatus> = report.modes.iter().map(|m| m.status).collect();
        assert_eq!(status, [ModeStatus::Ok, ModeStatus::Unavailable, ModeStatus::Unavailable]);
    }
}
