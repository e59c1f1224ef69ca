//! async-pipeline: generate -> slow square -> print, connected by bounded channels.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Preset, Topic, needs_nothing};

pub fn topic() -> Topic {
    Topic {
        id: "async-pipeline",
        title: "An async pipeline with backpressure",
        chapter: Chapter::Async,
        summary: "Generate a number (0.1 s), square it slowly (0.3 s), print it: bounded channels make the fast stage wait for the slow one.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("items", "Items", 6, 1, 200),
            Param::int("buffer", "Channel buffer", 2, 1, 50),
            Param::int("generate_ms", "Generate (ms)", 100, 0, 2000),
            Param::int("square_ms", "Square (ms)", 300, 0, 5000),
            Param::float("time_scale", "Time scale", 0.5, 0.01, 1.0, 0.01),
        ],
        presets: vec![Preset { id: "original", label: "Original times, 10 items", values: json!({"items": 10, "time_scale": 1.0}) }],
        modes: vec![
            Mode::new("bounded", "Bounded channels (backpressure)", Model::Async),
            Mode::new("unbounded", "Unbounded channels", Model::Async),
        ],
        code: crate::topic_code!("async_pipeline/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_pipeline(run, params.read())),
        needs: needs_nothing,
        reads: reads::<AsyncPipelineParams>,
    }
}

// CODE START
use std::cell::Cell;

use futures::channel::mpsc;
use futures::{Sink, SinkExt, Stream, StreamExt};
use serde::Deserialize;

use crate::engines::tasks;
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsyncPipelineParams {
    items: usize,
    buffer: usize,
    generate_ms: f64,
    square_ms: f64,
    time_scale: f64,
}

/// How far the generator is ahead of the squarer: items sent but not yet taken.
struct Ahead<'a> {
    run: &'a Run,
    series: &'static str,
    sent: Cell<usize>,
    taken: Cell<usize>,
    max: Cell<usize>,
}

impl Ahead<'_> {
    fn record(&self) {
        let ahead = self.sent.get() - self.taken.get();
        self.max.set(self.max.get().max(ahead));
        self.run.sample(
            "waiting between generate and square",
            self.series,
            ("time (ms)", "items"),
            (self.run.now(), ahead as f64),
        );
    }
}

async fn run_pipeline(run: Run, p: AsyncPipelineParams) -> RunResult<()> {
    let (n, buffer) = (p.items, p.buffer);
    let (gen_ms, square_ms) = (p.generate_ms * p.time_scale, p.square_ms * p.time_scale);
    let expected: Vec<u64> = (1..=n as u64).map(|i| i * i).collect();

    for mode in ["bounded", "unbounded"] {
        let ahead = Ahead { run: &run, series: mode, sent: Cell::new(0), taken: Cell::new(0), max: Cell::new(0) };
        let outcome = run.measure(mode, async {
            if mode == "bounded" {
                // `buffer - 1` plus the sender's own slot: each channel holds at most `buffer` items.
                let (a_tx, a_rx) = mpsc::channel(buffer - 1);
                let (b_tx, b_rx) = mpsc::channel(buffer - 1);
                pipeline(&run, &ahead, (a_tx, a_rx), (b_tx, b_rx), n, gen_ms, square_ms).await
            } else {
                let (a_tx, a_rx) = mpsc::unbounded();
                let (b_tx, b_rx) = mpsc::unbounded();
                pipeline(&run, &ahead, (a_tx, a_rx), (b_tx, b_rx), n, gen_ms, square_ms).await
            }
        });
        let Some(printed) = outcome.await? else { continue };
        let max = ahead.max.get();
        run.result(mode, format!("{} squares; generator at most {max} ahead", printed.len()));
        run.verify(printed == expected, format!("{mode}: {} squares printed, all correct and in order", printed.len()));
        if mode == "bounded" {
            run.verify(
                max <= buffer,
                format!("bounded: the generator was never more than {buffer} items ahead (at most {max})"),
            );
        } else {
            run.note(mode, format!("up to {max} items waited in the channel"));
        }
        run.value(&format!("{mode}_max_ahead"), max);
        run.value(&format!("{mode}_printed"), &printed);
    }
    Ok(())
}

/// The three stages, run together on one loop; returns what the last stage printed.
async fn pipeline<A, RA, B, RB>(
    run: &Run,
    ahead: &Ahead<'_>,
    (mut a_tx, mut a_rx): (A, RA),
    (mut b_tx, mut b_rx): (B, RB),
    n: usize,
    gen_ms: f64,
    square_ms: f64,
) -> RunResult<Vec<u64>>
where
    A: Sink<u64> + Unpin,
    B: Sink<u64> + Unpin,
    RA: Stream<Item = u64> + Unpin,
    RB: Stream<Item = u64> + Unpin,
{
    let generate = async {
        for i in 1..=n as u64 {
            run.timed_async("generate", &format!("make {i}"), SpanKind::Io, tasks::sleep(run, gen_ms)).await?;
            let start = run.now();
            a_tx.feed(i).await.map_err(|_| RunError::from("the squarer is gone"))?; // backpressure: waits while full
            if run.now() - start > 0.5 {
                run.span("generate", format!("send {i}: buffer full"), SpanKind::Wait, start, run.now());
            }
            ahead.sent.set(ahead.sent.get() + 1);
            ahead.record();
        }
        drop(a_tx); // closing the channel tells the squarer there is no more
        Ok::<(), RunError>(())
    };
    let square = async {
        while let Some(i) = a_rx.next().await {
            ahead.taken.set(ahead.taken.get() + 1);
            ahead.record();
            run.timed_async("square", &format!("square {i}"), SpanKind::Io, tasks::sleep(run, square_ms)).await?;
            let start = run.now();
            b_tx.feed(i * i).await.map_err(|_| RunError::from("the printer is gone"))?;
            if run.now() - start > 0.5 {
                run.span("square", format!("send {}: buffer full", i * i), SpanKind::Wait, start, run.now());
            }
        }
        drop(b_tx);
        Ok::<(), RunError>(())
    };
    let print = async {
        let mut printed = Vec::new();
        while let Some(x) = b_rx.next().await {
            run.log("print", format!("{x}"));
            printed.push(x);
            run.progress(printed.len() as f64, n as f64, "squares printed");
        }
        printed
    };
    let (generated, squared, printed) = futures::join!(generate, square, print);
    generated?;
    squared?;
    run.check()?;
    Ok(printed)
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({})),
        output: |out, r| {
            let report = r.expect("a Rust run");
            let (_, printed) =
                report.values.iter().find(|(k, _)| k.ends_with("_printed")).ok_or("no _printed value")?;
            let sum: i64 =
                printed.as_array().ok_or("printed is a list")?.iter().filter_map(serde_json::Value::as_i64).sum();
            expect_eq("sum of squares", after(out, "sum ")?, sum)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn backpressure_keeps_the_generator_close_and_results_are_right() {
        let params = json!({"items": 8, "buffer": 2, "generate_ms": 10, "square_ms": 30, "time_scale": 1.0});
        let report = run_native("async-pipeline", params, false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["bounded_printed"], json!([1, 4, 9, 16, 25, 36, 49, 64]));
        let bounded = report.values["bounded_max_ahead"].as_u64().unwrap();
        let unbounded = report.values["unbounded_max_ahead"].as_u64().unwrap();
        assert!(bounded <= 2, "{bounded}");
        assert!(unbounded > 2, "{unbounded}");
        // The slowest stage sets the pace in both: about 8 x 30 ms.
        for mode in &report.modes {
            assert!(mode.wall_ms.unwrap() >= 240.0 && mode.wall_ms.unwrap() < 400.0, "{:?}", mode.wall_ms);
        }
    }
}
