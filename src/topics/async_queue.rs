//! async-queue: a bounded async queue between one producer and several consumers.

use serde_json::json;

use crate::params::{Param, Params};
use crate::topic::{no_check, Chapter, Mode, Model, Preset, Topic, needs_nothing};

pub fn topic() -> Topic {
    Topic {
        id: "async-queue",
        title: "A bounded async queue",
        chapter: Chapter::Async,
        summary: "One producer puts 20 items into a queue of at most 10; two consumers take them (0.1 s each); stop sentinels end them.",
        explanation: crate::prose!("A queue decouples who makes work from who does it. The producer puts items in; consumers take them out as fast as they can. Here everything is a task on one event loop, and the queue is an async channel: a consumer that finds it empty waits without blocking anyone, and wakes when an item arrives.\n\n\
The queue is bounded (10 items by default). When it is full, the producer's put waits until a consumer has taken something: the chart of the queue length rises to the bound and stays under it, and the producer's lane shows its waits. Without a bound a fast producer would fill memory with work nobody has done yet.\n\n\
To finish, the producer puts one stop sentinel (None) per consumer after the last item; each consumer stops when it takes one. Every item is taken exactly once, by whichever consumer was free.\n\n\
A pitfall in the original tutorial: it put one None sentinel for two consumers. The first consumer to take it stops; the second waits on an empty queue forever, and gather never returns. Send one sentinel per consumer (or use queue.join() and cancel the consumers)."),
        params: vec![
            Param::int("items", "Items", 20, 1, 500),
            Param::int("max_size", "Queue bound", 10, 1, 100),
            Param::int("consumers", "Consumers", 2, 1, 20),
            Param::int("produce_ms", "Time to make an item (ms)", 10, 0, 2000),
            Param::int("consume_ms", "Time to handle an item (ms)", 100, 0, 5000),
            Param::float("time_scale", "Time scale", 1.0, 0.01, 1.0, 0.01),
        ],
        presets: vec![Preset { id: "tiny-bound", label: "Bound of 2", values: json!({"max_size": 2}) }],
        modes: vec![Mode::new("queue", "Producer, queue, consumers", Model::Async)],
        code: crate::topic_code!("async_queue.rs"),
        python: crate::prose!(PYTHON),
        check: no_check,
        run: |run, params| Box::pin(run_async_queue(run, params)),
        needs: needs_nothing,
    }
}

const PYTHON: &str = r#"import asyncio

ITEMS = 20
MAX_SIZE = 10             # the queue's bound
CONSUMERS = 2
PRODUCE_MS = 10           # time to make an item
CONSUME_MS = 100          # time to handle an item
TIME_SCALE = 1.0

async def producer(queue):
    for item in range(ITEMS):
        await asyncio.sleep(PRODUCE_MS / 1000 * TIME_SCALE)   # make the item
        await queue.put(item)           # waits while the queue is full
    for _ in range(CONSUMERS):
        await queue.put(None)           # one stop sentinel PER consumer (one alone: gather hangs)

async def consumer(name, queue, taken):
    while (item := await queue.get()) is not None:
        await asyncio.sleep(CONSUME_MS / 1000 * TIME_SCALE)   # handle the item
        taken.append((name, item))

async def main():
    queue = asyncio.Queue(maxsize=MAX_SIZE)
    taken = []
    await asyncio.gather(producer(queue),
                         *(consumer(f"consumer {i}", queue, taken) for i in range(1, CONSUMERS + 1)))
    assert sorted(item for _, item in taken) == list(range(ITEMS))
    print("handled", len(taken), "items")

if __name__ == "__main__":
    asyncio.run(main())
"#;

// CODE START
use std::cell::{Cell, RefCell};

use futures::channel::mpsc;
use futures::lock::Mutex;
use futures::{SinkExt, StreamExt};

use crate::engines::tasks;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

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

async fn run_async_queue(run: Run, p: Params) -> RunResult<()> {
    let (items, bound, consumers) = (p.count("items"), p.count("max_size"), p.count("consumers"));
    let scale = p.float("time_scale");
    let (make_ms, handle_ms) = (p.float("produce_ms") * scale, p.float("consume_ms") * scale);

    let outcome = run.measure("queue", async {
        // A channel of `bound - 1` plus one slot per sender (one here) holds exactly `bound` items.
        let (mut tx, rx) = mpsc::channel::<Option<usize>>(bound - 1);
        let rx = Mutex::new(rx); // consumers take turns at the one receiving end
        let length = Length { run: &run, now: Cell::new(0), max: Cell::new(0) };
        let taken = RefCell::new(Vec::new());
        let producer_waits = Cell::new(0);

        let producer = async {
            let items_then_sentinels = (0..items).map(Some).chain((0..consumers).map(|_| None));
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
            run.log("producer", format!("put {items} items and {consumers} sentinels"));
            Ok::<(), crate::run::RunError>(())
        };

        let consumer = |c: usize| {
            let (run, rx, length, taken) = (&run, &rx, &length, &taken);
            async move {
                let lane = format!("consumer {c}");
                loop {
                    let start = run.now();
                    let next = rx.lock().await.next().await; // waits while the queue is empty
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

        let (made, handled) = futures::join!(producer, futures::future::join_all((1..=consumers).map(consumer)));
        made?;
        handled.into_iter().collect::<RunResult<Vec<()>>>()?;
        Ok((taken.into_inner(), length.max.get(), producer_waits.get()))
    });
    let Some((taken, max_len, waits)) = outcome.await? else { return Ok(()) };

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
    Ok(())
}
// CODE END

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
    }
}
