//! kitchen: concurrency vs parallelism, with two dishes made of waiting steps.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "kitchen",
        title: "Concurrency vs parallelism: one cook or two",
        chapter: Chapter::Foundations,
        summary: "Pasta (2 s + 5 s) and sauce (3 s + 4 s): one after the other, interleaved by one cook, or two cooks at once.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![Param::float("time_scale", "Time scale", 0.05, 0.01, 1.0, 0.01)
            .help("Multiplies every step: 1 gives the original 2 + 5 s and 3 + 4 s.")],
        presets: vec![Preset { id: "original", label: "Original durations (2+5 s, 3+4 s)", values: json!({"time_scale": 1.0}) }],
        modes: vec![
            Mode::new("sequential", "Sequential (one dish, then the other)", Model::Sequential),
            Mode::new("concurrent", "Concurrent (one cook, async)", Model::Async),
            Mode::new("parallel", "Parallel (two isolated workers)", Model::Workers),
        ],
        code: crate::topic_code!("kitchen/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_kitchen(run, params.read())),
        needs: |_| Needs::workers(2),
        reads: reads::<KitchenParams>,
    }
}

// CODE START
use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::engines::tasks;
use crate::engines::workers::{Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KitchenParams {
    time_scale: f64,
}

/// A dish: its name and its steps (label, seconds).
const DISHES: [(&str, &[(&str, f64)]); 2] = [
    ("pasta", &[("boil the water", 2.0), ("cook the pasta", 5.0)]),
    ("sauce", &[("chop and fry", 3.0), ("simmer the sauce", 4.0)]),
];

#[derive(Serialize, Deserialize)]
pub struct Order {
    dish: String,
    steps: Vec<(String, f64)>,
}

/// What a cook did: each step with its absolute start and end times.
#[derive(Serialize, Deserialize)]
pub struct Cooked {
    steps: Vec<(String, f64, f64)>,
}

async fn run_kitchen(run: Run, p: KitchenParams) -> RunResult<()> {
    let scale = p.time_scale;
    let ms = |seconds: f64| seconds * 1000.0 * scale;
    let dish_ms = |steps: &[(&str, f64)]| steps.iter().map(|s| ms(s.1)).sum::<f64>();
    let sum = DISHES.iter().map(|d| dish_ms(d.1)).sum::<f64>();
    let longest = DISHES.iter().map(|d| dish_ms(d.1)).fold(0.0, f64::max);

    // One dish, then the other, on one lane.
    let sequential = run.measure("sequential", async {
        for (dish, steps) in DISHES {
            cook_async(&run, "main", dish, steps, scale).await?;
        }
        Ok(())
    });
    sequential.await?;

    // One cook: both dishes as tasks on one event loop; each await gives the loop to the other.
    let concurrent = run.measure("concurrent", async {
        let (a, b) = futures::join!(
            cook_async(&run, "task pasta", DISHES[0].0, DISHES[0].1, scale),
            cook_async(&run, "task sauce", DISHES[1].0, DISHES[1].1, scale)
        );
        a.and(b)
    });
    concurrent.await?;

    // Two cooks: one isolated worker per dish, each standing at its stove.
    let parallel = run.measure("parallel", async {
        let pool = Pool::start(&run, 2).await?;
        let cooks = DISHES.iter().enumerate().map(|(w, (dish, steps))| {
            let order =
                Order { dish: dish.to_string(), steps: steps.iter().map(|(s, t)| (s.to_string(), ms(*t))).collect() };
            let (run, pool) = (&run, &pool);
            async move { pool.run_job(run, w, &COOK, &order, &format!("cook the {dish}")).await }
        });
        let done = futures::future::try_join_all(cooks).await?;
        let (mut first, mut last) = (f64::MAX, 0.0f64);
        for (job, (dish, _)) in done.iter().zip(DISHES) {
            let cooked = job.output.as_ref().map_err(Clone::clone)?;
            for (step, start, end) in cooked.steps.iter().cloned() {
                let (start, end) = (run.since_start(start), run.since_start(end));
                run.log(format!("{dish} cook"), format!("{step}: {start:.0} to {end:.0} ms"));
                (first, last) = (first.min(start), last.max(end));
            }
        }
        Ok(last - first)
    });
    let cooking = parallel.await?;

    let close = |wall: f64, ideal: f64| wall >= ideal * 0.95 && wall <= ideal * 1.25 + 60.0;
    if let Some(wall) = run.wall_ms("sequential") {
        run.result("sequential", format!("{wall:.0} ms = every step added up"));
        run.verify(close(wall, sum), format!("sequential took {wall:.0} ms, the sum of all steps is {sum:.0} ms"));
        run.value("sequential_ms", wall);
    }
    if let Some(wall) = run.wall_ms("concurrent") {
        run.result("concurrent", format!("{wall:.0} ms ~ the longer dish"));
        run.verify(close(wall, longest), format!("concurrent took {wall:.0} ms, the longer dish is {longest:.0} ms"));
        run.value("concurrent_ms", wall);
    }
    if let (Some(cooking), Some(wall)) = (cooking, run.wall_ms("parallel")) {
        run.result("parallel", format!("{cooking:.0} ms of cooking ~ the longer dish"));
        run.note("parallel", format!("plus {:.0} ms to start the workers and pass messages", wall - cooking));
        run.verify(
            close(cooking, longest),
            format!("the two workers cooked in {cooking:.0} ms, the longer dish is {longest:.0} ms"),
        );
        run.value("parallel_ms", wall);
        run.value("parallel_cooking_ms", cooking);
    }
    run.value("sum_ms", sum);
    run.value("longest_ms", longest);
    Ok(())
}

/// Cooks one dish on the event loop: every step is an await, so other tasks run meanwhile.
async fn cook_async(run: &Run, lane: &str, dish: &str, steps: &[(&str, f64)], scale: f64) -> RunResult<()> {
    for (step, seconds) in steps {
        run.log(lane, format!("{dish}: {step} ({seconds} s)"));
        run.timed_async(lane, &format!("{dish}: {step}"), SpanKind::Io, tasks::sleep(run, seconds * 1000.0 * scale))
            .await?;
    }
    run.log(lane, format!("{dish} is ready"));
    Ok(())
}

/// What an isolated worker does with an order. A worker has no shared memory to block on, so it
/// waits by watching the clock: a busy wait that keeps this worker's core to itself. Each step
/// ends at its planned time from the start (like a cook following a kitchen timer), so a moment
/// when the busy machine gives the core to someone else does not push every later step back.
fn cook(order: Order) -> Result<Cooked, String> {
    let mut cooked = Cooked { steps: Vec::new() };
    let begin = now_ms();
    let mut deadline = begin;
    for (step, ms) in order.steps {
        let start = now_ms();
        deadline += ms;
        while now_ms() < deadline {
            std::hint::spin_loop();
        }
        cooked.steps.push((format!("{}: {step}", order.dish), start, now_ms()));
    }
    Ok(cooked)
}

pub static COOK: Job<Order, Cooked> =
    Job { name: "kitchen/cook", run: cook, warm_up: || Order { dish: "tea".into(), steps: vec![("boil".into(), 0.0)] } };
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| ["sequential", "concurrent", "parallel"].iter().try_for_each(|m| after(out, m).map(|_| ())),
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{Report, RunStatus};
    use crate::runner::testing::run_native_until;
    use serde_json::json;

    #[test]
    fn sequential_is_the_sum_and_the_others_the_longer_dish() {
        // Each mode takes about its ideal: the sum of the dishes, or the longer one.
        let near = |report: &Report, key: &str, ideal: f64| {
            let ms = report.values[key].as_f64().unwrap();
            ms >= ideal && ms < ideal * 1.3 + 50.0
        };
        let timed = |r: &Report| {
            near(r, "sequential_ms", 280.0) && near(r, "concurrent_ms", 140.0) && near(r, "parallel_cooking_ms", 140.0)
        };
        let report = run_native_until("kitchen", json!({"time_scale": 0.02}), false, timed);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let value = |k: &str| report.values[k].as_f64().unwrap();
        assert_eq!((value("sum_ms"), value("longest_ms")), (280.0, 140.0));
        assert!(timed(&report), "{:?}", report.values);
        let lanes = |id: &str| report.modes.iter().find(|m| m.id == id).unwrap().lanes;
        assert_eq!((lanes("sequential"), lanes("concurrent"), lanes("parallel")), (1, 2, 2));
    }
}
