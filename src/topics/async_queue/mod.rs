//! async-queue: a bounded async queue between one producer and several consumers.

use serde_json::json;

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Preset, Topic, needs_nothing};

pub fn topic() -> Topic {
    Topic {
        id: "async-queue",
        title: "A bounded async queue",
        chapter: Chapter::Async,
        summary: "One producer puts 20 items into a queue of at most 10; two consumers take them (0.1 s each); stop sentinels end them.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("items", "Items", 20, 1, 500),
            Param::int("max_size", "Queue bound", 10, 1, 100),
            Param::int("consumers", "Consumers", 2, 1, 20),
            Param::int("produce_ms", "Time to make an item (ms)", 10, 0, 2000),
            Param::int("consume_ms", "Time to handle an item (ms)", 100, 0, 5000),
            Param::float("time_scale", "Time scale", 1.0, 0.01, 1.0, 0.01),
            Param::flag("one_sentinel", "One sentinel for all consumers (the tutorial's bug)", false)
                .help("The consumers that find no sentinel wait forever; a watchdog ends them."),
        ],
        presets: vec![
            Preset { id: "tiny-bound", label: "Bound of 2", values: json!({"max_size": 2}) },
            Preset { id: "one-sentinel", label: "The tutorial's bug: one sentinel", values: json!({"one_sentinel": true}) },
        ],
        modes: vec![Mode::new("queue", "Producer, queue, consumers", Model::Async)],
        code: crate::topic_code!("async_queue/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_async_queue(run, params.read())),
        needs: needs_nothing,
        reads: reads::<AsyncQueueParams>,
    }
}

// CODE START
use std::cell::{Cell, RefCell};

use futures::channel::mpsc;
use futures::lock::Mutex;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;

use crate::engines::tasks;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsyncQueueParams {
    items: usize,
    max_size: usize,
    consumers: usize,
    produce_ms: f64,
    consume_ms: f64,
    time_scale: f64,
    one_sentinel: bool,
}

/// A consumer waiting this long on an empty queue after the last item is stuck for good.
const STUCK_AFTER_MS: f64 = 1000.0;

/// The queue's length as both sides see it, plotted at every put and get.
struct Length<'a> {
    run: &'a Run,
    now: Cell<usize>,
    max: Cell<usize>,
}

impl Length<'_> {
    fn change(&self, by: isize) {
        self.now.set(self.now.get().saturating_add_signed(by));
        self.max.set(self.max.get().max(self.now.get()));
        self.run.sample(
            "queue length",
            "items waiting",
            ("time (ms)", "items"),
            (self.run.now(), self.now.get() as f64),
        );
    }
}

async fn run_async_queue(run: Run, p: AsyncQueueParams) -> RunResult<()> {
    let (items, bound, consumers) = (p.items, p.max_size, p.consumers);
    let (make_ms, handle_ms) = (p.produce_ms * p.time_scale, p.consume_ms * p.time_scale);
    let sentinels = if p.one_sentinel { 1 } else { consumers };

    let outcome = run.measure("queue", async {
        // A channel of `bound - 1` plus one slot per sender (one here) holds exactly `bound` items.
        let (mut tx, rx) = mpsc::channel::<Option<usize>>(bound - 1);
        let rx = Mutex::new(rx); // consumers take turns at the one receiving end
        let length = Length { run: &run, now: Cell::new(0), max: Cell::new(0) };
        let taken = RefCell::new(Vec::new());
        let producer_waits = Cell::new(0);
        // When each consumer began waiting for its next item (None: handling one, or stopped).
        let waiting_since = RefCell::new(vec![None::<f64>; consumers + 1]);
        let producer_done = Cell::new(false);

        let producer = async {
            let items_then_sentinels = (0..items).map(Some).chain((0..sentinels).map(|_| None));
            for item in items_then_sentinels {
                if item.is_some() && make_ms > 0.0 {
                    run.timed_async("producer", "make item", SpanKind::Io, tasks::sleep(&run, make_ms)).await?;
                }
                let start = run.now();
                // `feed` returns once the item is in the queue (`send` would also wait for room for the
                // next one); it waits while the queue is full.
                tx.feed(item).await.map_err(|_| "every consumer is gone")?;
                if run.now() - start > 0.5 {
                    producer_waits.set(producer_waits.get() + 1);
                    run.span("producer", "put: queue full", SpanKind::Wait, start, run.now());
                }
                length.change(1);
            }
            run.log("producer", format!("put {items} items and {sentinels} sentinels"));
            producer_done.set(true);
            Ok::<(), crate::run::RunError>(())
        };

        let consumer = |c: usize| {
            let (run, rx, length, taken, waiting_since) = (&run, &rx, &length, &taken, &waiting_since);
            async move {
                let lane = format!("consumer {c}");
                loop {
                    let start = run.now();
                    waiting_since.borrow_mut()[c] = Some(start);
                    let next = rx.lock().await.next().await; // waits while the queue is empty
                    waiting_since.borrow_mut()[c] = None;
                    run.span(&lane, "get", SpanKind::Wait, start, run.now());
                    length.change(-1);
                    let Some(Some(item)) = next else { break };
                    run.timed_async(&lane, &format!("item {item}"), SpanKind::Io, tasks::sleep(run, handle_ms)).await?;
                    taken.borrow_mut().push((c, item));
                    run.progress(taken.borrow().len() as f64, items as f64, "items handled");
                }
                run.log(&lane, "took a sentinel: stopping");
                Ok::<(), crate::run::RunError>(())
            }
        };

        // Python's gather would wait for the consumers forever; the watchdog ends those that wait
        // on an empty queue with nothing left to come, and names them.
        let watchdog = async {
            loop {
                tasks::sleep(&run, STUCK_AFTER_MS / 4.0).await?;
                let now = run.now();
                let stuck: Vec<(usize, f64)> = waiting_since
                    .borrow()
                    .iter()
                    .enumerate()
                    .filter_map(|(c, since)| since.filter(|s| now - s > STUCK_AFTER_MS).map(|s| (c, s)))
                    .collect();
                if producer_done.get() && length.now.get() == 0 && !stuck.is_empty() {
                    return Ok::<_, crate::run::RunError>(stuck);
                }
            }
        };
        let consumers_done = futures::future::join_all((1..=consumers).map(consumer));
        let (made, ended) = futures::join!(producer, async {
            futures::pin_mut!(watchdog, consumers_done);
            match futures::future::select(consumers_done, watchdog).await {
                futures::future::Either::Left((handled, _)) => handled.into_iter().collect::<RunResult<Vec<()>>>().map(|_| Vec::new()),
                futures::future::Either::Right((stuck, _)) => stuck,
            }
        });
        made?;
        let stuck = ended?;
        for (c, since) in &stuck {
            let lane = format!("consumer {c}");
            run.span(&lane, "get: no sentinel came", SpanKind::Wait, *since, run.now());
            run.log(&lane, format!("waited {:.0} ms on an empty queue with nothing left to come: ended by the watchdog", run.now() - since));
        }
        Ok((taken.into_inner(), length.max.get(), producer_waits.get(), stuck.len()))
    });
    let Some((taken, max_len, waits, stuck)) = outcome.await? else { return Ok(()) };

    let mut order: Vec<usize> = taken.iter().map(|t| t.1).collect();
    order.sort_unstable();
    run.verify(max_len <= bound, format!("the queue never held more than {bound} items (at most {max_len})"));
    run.verify(
        order == (0..items).collect::<Vec<_>>(),
        format!("each of the {items} items was handled exactly once ({} handled)", taken.len()),
    );
    let shares: Vec<String> =
        (1..=consumers).map(|c| format!("consumer {c}: {}", taken.iter().filter(|t| t.0 == c).count())).collect();
    run.result("queue", shares.join(", "));
    run.note("queue", format!("the producer waited on a full queue {waits} times"));
    if let Some(wall) = run.wall_ms("queue") {
        run.sample("queue length", "bound", ("time (ms)", "items"), (0.0, bound as f64));
        run.sample("queue length", "bound", ("time (ms)", "items"), (wall, bound as f64));
    }
    run.value("max_length", max_len);
    run.value("producer_waits", waits);
    run.value("handled", taken.len());
    run.value("stuck_consumers", stuck);
    if sentinels < consumers {
        run.verify(
            stuck == consumers - sentinels,
            format!("with {sentinels} sentinel for {consumers} consumers, {stuck} consumers never stopped (gather would hang): the watchdog ended them"),
        );
    } else {
        run.verify(stuck == 0, format!("every consumer stopped on its own sentinel ({stuck} stuck)"));
    }
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"time_scale": 0.2})),
        output: |out, r| expect_eq("handled", after(out, "handled ")?, value(r, "handled")),
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn the_queue_stays_bounded_and_every_item_is_handled_once() {
        let params = json!({"items": 20, "max_size": 5, "consumers": 2, "produce_ms": 0, "consume_ms": 10});
        let report = run_native("async-queue", params, false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        // The producer is much faster, so the queue reaches its bound, never more.
        assert_eq!(report.values["max_length"], 5);
        assert!(report.values["producer_waits"].as_u64().unwrap() > 0);
        assert_eq!(report.values["handled"], 20);
        let lengths = &report.series.iter().find(|s| s.name == "items waiting").unwrap().points;
        assert!(lengths.iter().all(|p| p.1 <= 5.0));
        assert_eq!(lengths.last().unwrap().1, 0.0);
        assert_eq!(report.values["stuck_consumers"], 0);
    }

    #[test]
    fn one_sentinel_for_three_consumers_leaves_two_waiting_until_the_watchdog_ends_them() {
        let params = json!({"items": 6, "consumers": 3, "produce_ms": 0, "consume_ms": 5, "one_sentinel": true});
        let report = run_native("async-queue", params, false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["handled"], 6);
        assert_eq!(report.values["stuck_consumers"], 2);
        assert!(report.log.iter().any(|l| l.text.contains("ended by the watchdog")));
    }
}
