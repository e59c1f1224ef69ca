//! background-tasks: fire-and-forget tasks kept alive in a set while the main flow goes on.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, needs_nothing};

pub fn topic() -> Topic {
    Topic {
        id: "background-tasks",
        title: "Background tasks: fire and forget, safely",
        chapter: Chapter::Async,
        summary: "Start tasks without waiting for them, keep them in a set that empties itself, and let the main flow go on at once.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("tasks", "Background tasks", 5, 1, 50),
            Param::float("min_s", "Shortest task (s)", 0.2, 0.0, 10.0, 0.1),
            Param::float("max_s", "Longest task (s)", 0.8, 0.0, 10.0, 0.1),
            Param::int("main_steps", "Main flow steps", 3, 0, 20).help("Each step of the main flow takes 20 ms."),
            Param::float("time_scale", "Time scale", 1.0, 0.01, 1.0, 0.01),
            Param::int("seed", "Random seed", 7, 0, 1_000_000),
        ],
        presets: vec![Preset { id: "many", label: "20 tasks", values: json!({"tasks": 20}) }],
        modes: vec![Mode::new("background", "Background tasks in a set", Model::Async)],
        code: crate::topic_code!("background_tasks/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| {
            let p: BackgroundTasksParams = p.read();
            if p.min_s > p.max_s {
                return Err(crate::params::FieldError::new("max_s", "the longest task must not be shorter than the shortest"));
            }
            Ok(())
        },
        run: |run, params| Box::pin(run_background(run, params.read())),
        needs: needs_nothing,
        reads: reads::<BackgroundTasksParams>,
    }
}

// CODE START
use std::cell::Cell;

use futures::stream::{FuturesUnordered, StreamExt};
use serde::Deserialize;

use crate::engines::tasks;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackgroundTasksParams {
    tasks: usize,
    min_s: f64,
    max_s: f64,
    main_steps: usize,
    time_scale: f64,
    seed: u64,
}

const STEP_MS: f64 = 20.0;

/// One background job: waits a while (like sending an e-mail) and reports when it is done.
async fn job(run: &Run, i: usize, ms: f64) -> RunResult<(usize, f64)> {
    let lane = format!("task {}", i + 1);
    run.timed_async(&lane, "background work", SpanKind::Io, tasks::sleep(run, ms)).await?;
    run.log(&lane, format!("task {} done after {ms:.0} ms", i + 1));
    Ok((i, run.now()))
}

async fn run_background(run: Run, p: BackgroundTasksParams) -> RunResult<()> {
    let scale = p.time_scale;
    let (n, steps) = (p.tasks, p.main_steps);
    let mut rng = fastrand::Rng::with_seed(p.seed);
    let durations: Vec<f64> = (0..n)
        .map(|_| (p.min_s + rng.f64() * (p.max_s - p.min_s)) * 1000.0 * scale)
        .collect();
    let main_done = Cell::new(f64::NAN);

    let outcome = run.measure("background", async {
        // The set keeps each task alive; dropping it would cancel them all.
        let mut set = FuturesUnordered::new();
        for (i, &ms) in durations.iter().enumerate() {
            set.push(job(&run, i, ms));
        }
        let started = run.now();
        run.log("main", format!("started {n} background tasks; not waiting for them"));
        run.sample("tasks alive", "in the set", ("time (ms)", "tasks"), (started, set.len() as f64));

        // The main flow: goes on at once, on the same loop.
        let main_flow = async {
            run.log("main", format!("main flow goes on after {:.1} ms", run.now() - started));
            for step in 1..=steps {
                run.timed_async(
                    "main",
                    &format!("main step {step}"),
                    SpanKind::Io,
                    tasks::sleep(&run, STEP_MS * scale),
                )
                .await?;
                run.log("main", format!("main flow, step {step}"));
            }
            main_done.set(run.now());
            run.log("main", "main flow finished");
            Ok::<f64, crate::run::RunError>(run.now() - started)
        };
        // The loop drives the set too: every finished task leaves it (the done callback).
        let drive_set = async {
            let mut finished = Vec::new();
            while let Some(done) = set.next().await {
                let (i, at) = done?;
                finished.push((i, at));
                run.sample("tasks alive", "in the set", ("time (ms)", "tasks"), (run.now(), set.len() as f64));
            }
            Ok::<_, crate::run::RunError>((finished, set.len()))
        };
        let (went_on_after, set_result) = futures::join!(main_flow, drive_set);
        let (finished, left) = set_result?;
        Ok((went_on_after?, finished, left))
    });
    let Some((main_ms, finished, left)) = outcome.await? else { return Ok(()) };

    let first_task_done = finished.iter().map(|f| f.1).fold(f64::INFINITY, f64::min);
    let last_task_done = finished.iter().map(|f| f.1).fold(0.0, f64::max);
    run.result("background", format!("{} tasks finished, {left} left in the set", finished.len()));
    run.verify(left == 0 && finished.len() == n, format!("the set emptied: {} of {n} tasks finished", finished.len()));
    run.verify(
        main_done.get() < last_task_done,
        format!(
            "the main flow finished first ({:.0} ms, after {main_ms:.0} ms of its own) while tasks ran until {last_task_done:.0} ms",
            main_done.get()
        ),
    );
    run.value("main_done_ms", main_done.get());
    run.value("first_task_done_ms", first_task_done);
    run.value("last_task_done_ms", last_task_done);
    run.value("left_in_set", left);
    run.value("finished_order", finished.iter().map(|f| f.0 + 1).collect::<Vec<_>>());
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck { output: |out, _| expect_eq("finished", after(out, "finished ")?, 5), ..ProgramCheck::AS_WRITTEN }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn the_set_empties_and_the_main_flow_finishes_first() {
        let params = json!({"tasks": 6, "time_scale": 0.2, "main_steps": 2});
        let report = run_native("background-tasks", params, false);
        assert_eq!(report.status, RunStatus::Ok);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let v = |k: &str| report.values[k].as_f64().unwrap();
        assert_eq!(v("left_in_set"), 0.0);
        // Two steps of 20 ms x 0.2 = 8 ms; the shortest task is 0.2 s x 0.2 = 40 ms.
        assert!(v("main_done_ms") < v("first_task_done_ms"));
        let alive = &report.series[0].points;
        assert_eq!(alive.first().unwrap().1, 6.0);
        assert_eq!(alive.last().unwrap().1, 0.0);
        assert_eq!(report.values["finished_order"].as_array().unwrap().len(), 6);
    }
}
