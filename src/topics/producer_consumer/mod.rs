//! producer-consumer: producers put items on a bounded, thread-safe queue; consumers take them
//! off; stop sentinels end the consumers. Queue length is plotted over time.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "producer-consumer",
        title: "Producers and consumers on a bounded queue",
        chapter: Chapter::Threads,
        summary: "2 producers make 5 items each, 3 consumers take them from a bounded thread-safe queue; sentinels tell the consumers to stop.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("producers", "Producers", 2, 1, 16),
            Param::int("items", "Items per producer", 5, 1, 100),
            Param::int("consumers", "Consumers", 3, 1, 16),
            Param::int("queue_size", "Queue size (maximum)", 3, 1, 100).help("A full queue makes producers wait."),
            Param::int("produce_min_ms", "Producing takes at least (ms)", 100, 0, 5000),
            Param::int("produce_max_ms", "Producing takes at most (ms)", 500, 0, 5000),
            Param::int("consume_min_ms", "Consuming takes at least (ms)", 200, 0, 5000),
            Param::int("consume_max_ms", "Consuming takes at most (ms)", 800, 0, 5000),
            Param::float("time_scale", "Time scale", 0.5, 0.01, 1.0, 0.01)
                .help("Multiplies every duration; 1 restores the original times."),
            Param::int("seed", "Random seed (0: new each run)", 0, 0, 1_000_000_000),
        ],
        presets: vec![
            Preset { id: "original", label: "Original durations", values: json!({"time_scale": 1.0}) },
            Preset {
                id: "fast-producers",
                label: "Fast producers, queue of 2",
                values: json!({"queue_size": 2, "items": 10, "produce_min_ms": 20, "produce_max_ms": 60}),
            },
        ],
        modes: vec![
            Mode::new("threads", "Producer and consumer threads, stopped by sentinels", Model::Threads),
            Mode::new("join", "Main waits with join() until every item is task_done()", Model::Threads),
        ],
        code: crate::topic_code!("producer_consumer/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_producer_consumer(run, params.read())),
        // The join mode adds a thread that stands in for main while it waits in join().
        needs: |p| {
            let p: ProducerConsumerParams = p.read();
            Needs::threads(p.producers + p.consumers + 1)
        },
        reads: reads::<ProducerConsumerParams>,
    }
}

fn check(p: &ProducerConsumerParams) -> Result<(), FieldError> {
    let ranges = [
        (p.produce_min_ms, p.produce_max_ms, "produce_max_ms"),
        (p.consume_min_ms, p.consume_max_ms, "consume_max_ms"),
    ];
    for (lo, hi, field) in ranges {
        if lo > hi {
            return Err(FieldError::new(field, "The longest time must be at least the shortest"));
        }
    }
    // Worst case: one producer's items made one after another, or all items consumed by the consumers.
    let producing = p.items as f64 * p.produce_max_ms * p.time_scale;
    let total_items = (p.producers * p.items) as f64;
    let consuming = total_items * p.consume_max_ms * p.time_scale / p.consumers as f64;
    if producing.max(consuming) > 60_000.0 {
        return Err(FieldError::new(
            "items",
            "This could take over a minute: use fewer items, shorter times or a smaller time scale",
        ));
    }
    Ok(())
}

// CODE START
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde::Deserialize;

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProducerConsumerParams {
    producers: usize,
    items: usize,
    consumers: usize,
    queue_size: usize,
    produce_min_ms: f64,
    produce_max_ms: f64,
    consume_min_ms: f64,
    consume_max_ms: f64,
    time_scale: f64,
    seed: u64,
}

/// What travels on the queue: an item, or the sentinel that tells a consumer to stop.
#[derive(Clone, Debug, PartialEq)]
enum Msg {
    Item(String),
    Stop,
}

/// A thread-safe queue with a maximum size: a lock around a VecDeque, plus two condition
/// variables to sleep on while it is empty or full. Like Python's queue.Queue it also counts
/// the items put and not yet marked done (task_done), for join().
struct BoundedQueue {
    items: Mutex<VecDeque<Msg>>,
    not_empty: Condvar,
    not_full: Condvar,
    capacity: usize,
    /// The longest the queue ever was (recorded, to check the bound).
    longest: AtomicUsize,
    /// When the chart got its last point (f64 bits; only touched while holding the lock).
    last_point: AtomicU64,
    /// The chart series this queue draws.
    series: &'static str,
    unfinished: Mutex<Unfinished>,
    all_done: Condvar,
    /// Set once nothing more will be put: an empty queue then ends get() (Queue.shutdown, 3.13+).
    closed: AtomicBool,
}

/// Queue.unfinished_tasks, and what join()'s check reads.
#[derive(Clone, Copy, Default)]
struct Unfinished {
    count: usize,
    done: usize,
    last_done_at: f64,
}

/// Condition waits wake up at least this often, to notice Stop.
const SLICE: Duration = Duration::from_millis(10);

impl BoundedQueue {
    fn new(capacity: usize, series: &'static str) -> BoundedQueue {
        BoundedQueue {
            items: Mutex::new(VecDeque::new()),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
            longest: AtomicUsize::new(0),
            last_point: AtomicU64::new(0),
            series,
            unfinished: Mutex::new(Unfinished::default()),
            all_done: Condvar::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Adds `msg`, waiting while the queue is full.
    fn put(&self, run: &Run, lane: &str, msg: Msg) -> RunResult<()> {
        let asked = run.now();
        let mut items = self.items.lock().unwrap();
        while items.len() >= self.capacity {
            run.check()?;
            items = self.not_full.wait_timeout(items, SLICE).unwrap().0; // releases the lock while asleep
        }
        waited(run, lane, "wait: queue full", asked);
        // Counted before any consumer can take it, so task_done() never runs ahead of the count.
        self.unfinished.lock().unwrap().count += 1;
        items.push_back(msg);
        self.changed(run, &items, items.len() - 1);
        drop(items);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Takes the oldest message, waiting while the queue is empty; `None` once it is closed and empty.
    fn get(&self, run: &Run, lane: &str) -> RunResult<Option<Msg>> {
        let asked = run.now();
        let mut items = self.items.lock().unwrap();
        let msg = loop {
            if let Some(msg) = items.pop_front() {
                break msg;
            }
            if self.closed.load(Ordering::SeqCst) {
                return Ok(None);
            }
            run.check()?;
            items = self.not_empty.wait_timeout(items, SLICE).unwrap().0;
        };
        waited(run, lane, "wait: queue empty", asked);
        self.changed(run, &items, items.len() + 1);
        drop(items);
        self.not_full.notify_one();
        Ok(Some(msg))
    }

    /// Marks one item taken by get() as fully handled (Queue.task_done).
    fn task_done(&self, run: &Run) -> RunResult<()> {
        let mut unfinished = self.unfinished.lock().unwrap();
        if unfinished.count == 0 {
            // Python raises ValueError here.
            return Err(RunError::Failed("task_done() called more times than items were put".into()));
        }
        unfinished.count -= 1;
        unfinished.done += 1;
        unfinished.last_done_at = run.now();
        if unfinished.count == 0 {
            self.all_done.notify_all();
        }
        Ok(())
    }

    /// Blocks until every item put so far has had its task_done() (Queue.join); returns what
    /// the count said when it woke up, read under the same lock task_done() takes.
    fn join(&self, run: &Run, lane: &str) -> RunResult<(f64, Unfinished)> {
        let asked = run.now();
        let mut unfinished = self.unfinished.lock().unwrap();
        while unfinished.count > 0 {
            run.check()?;
            unfinished = self.all_done.wait_timeout(unfinished, SLICE).unwrap().0;
        }
        let joined_at = run.now();
        run.span(lane, "q.join(): wait for every task_done()", SpanKind::Wait, asked, joined_at);
        Ok((joined_at, *unfinished))
    }

    /// No more puts: consumers waiting on an empty queue end.
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _guard = self.items.lock().unwrap(); // a consumer between its check and its wait sees the flag
        self.not_empty.notify_all();
    }

    /// Records the length before and after a change, so the chart draws steps (while still
    /// holding the lock, so the samples are in order).
    fn changed(&self, run: &Run, items: &MutexGuard<VecDeque<Msg>>, before: usize) {
        self.longest.fetch_max(items.len(), Ordering::Relaxed);
        let last = f64::from_bits(self.last_point.load(Ordering::Relaxed));
        let now = run.now().max(last);
        for (t, len) in [((now - 0.001).max(last), before), (now, items.len())] {
            run.sample("queue", self.series, ("time (ms)", "items in the queue"), (t, len as f64));
        }
        self.last_point.store(now.to_bits(), Ordering::Relaxed);
    }
}

/// Draws the time since `since` as waiting, when there was any.
fn waited(run: &Run, lane: &str, label: &str, since: f64) {
    let now = run.now();
    if now - since > 0.05 {
        run.span(lane, label, SpanKind::Wait, since, now);
    }
}

/// Who consumed what, and when: the record the final check reads.
#[derive(Clone)]
struct Consumed {
    item: String,
    consumer: usize,
    taken_at: f64,
}

struct Durations {
    produce: (f64, f64),
    consume: (f64, f64),
}

/// What both modes share: the counts, the durations and the seed.
struct Setup {
    producers: usize,
    items: usize,
    consumers: usize,
    queue_size: usize,
    times: Arc<Durations>,
    seed: u64,
}

/// How a mode went, for its checks.
struct Outcome {
    records: Vec<Consumed>,
    stops: usize,
    longest: usize,
    capacity: usize,
    /// join mode: when q.join() returned and what the count said then; the count at the end.
    joined: Option<(f64, Unfinished)>,
    at_end: Unfinished,
}

/// Runs one mode: "threads" ends the consumers with stop sentinels; "join" has the main thread
/// wait with q.join() until every item is marked done, then closes the queue.
async fn one_mode(run: &Run, mode: &'static str, s: &Setup) -> RunResult<Outcome> {
    let sentinels = mode == "threads";
    let series = if sentinels { "queue length" } else { "queue length (join)" };
    let queue = Arc::new(BoundedQueue::new(s.queue_size, series));
    let producers_left = Arc::new(AtomicUsize::new(s.producers));
    let records = Arc::new(Mutex::new(Vec::<Consumed>::new()));
    let stops_taken = Arc::new(AtomicUsize::new(0));
    run.sample("queue", series, ("time (ms)", "items in the queue"), (run.now(), 0.0));

    let mut consumer_handles = Vec::new();
    for c in 1..=s.consumers {
        let (run, queue, records, stops, times) =
            (run.clone(), queue.clone(), records.clone(), stops_taken.clone(), s.times.clone());
        let mut rng = fastrand::Rng::with_seed(s.seed ^ (1000 + c as u64));
        consumer_handles.push(threads::spawn(format!("consumer {c}"), move || -> RunResult<()> {
            let lane = format!("consumer {c}");
            loop {
                let item = match queue.get(&run, &lane)? {
                    Some(Msg::Item(item)) => item,
                    Some(Msg::Stop) => {
                        stops.fetch_add(1, Ordering::SeqCst);
                        run.log(&lane, "got a stop sentinel: done");
                        return queue.task_done(&run);
                    }
                    None => {
                        run.log(&lane, "the queue was closed after join(): done");
                        return Ok(());
                    }
                };
                let taken_at = run.now();
                records.lock().unwrap().push(Consumed { item: item.clone(), consumer: c, taken_at });
                let spend = rng.f64() * (times.consume.1 - times.consume.0) + times.consume.0;
                run.timed(&lane, &format!("consume {item}"), SpanKind::Io, || threads::sleep(&run, spend))?;
                run.log(&lane, format!("consumed {item}"));
                queue.task_done(&run)?; // only now is this item finished
            }
        })?);
    }
    let mut producer_handles = Vec::new();
    for pr in 1..=s.producers {
        let (run, queue, left, times) = (run.clone(), queue.clone(), producers_left.clone(), s.times.clone());
        let (items, consumers) = (s.items, s.consumers);
        let mut rng = fastrand::Rng::with_seed(s.seed ^ pr as u64);
        producer_handles.push(threads::spawn(format!("producer {pr}"), move || -> RunResult<()> {
            let lane = format!("producer {pr}");
            for n in 1..=items {
                let item = format!("P{pr}-{n}");
                let spend = rng.f64() * (times.produce.1 - times.produce.0) + times.produce.0;
                run.timed(&lane, &format!("make {item}"), SpanKind::Io, || threads::sleep(&run, spend))?;
                queue.put(&run, &lane, Msg::Item(item.clone()))?;
                run.log(&lane, format!("put {item}"));
            }
            // The last producer to finish tells every consumer to stop.
            if sentinels && left.fetch_sub(1, Ordering::SeqCst) == 1 {
                run.log(&lane, format!("last producer done: putting {consumers} stop sentinels"));
                for _ in 0..consumers {
                    queue.put(&run, &lane, Msg::Stop)?;
                }
            }
            Ok(())
        })?);
    }
    // Every put must be made before join(): on a queue with nothing counted it returns at once.
    for outcome in threads::join_all(producer_handles).await? {
        outcome?;
    }
    let mut joined = None;
    if !sentinels {
        // The engine's own main thread must not block, so a thread stands in for Python's main.
        let (run2, queue2) = (run.clone(), queue.clone());
        let waiter = threads::spawn("main", move || queue2.join(&run2, "main"))?;
        let (joined_at, count) = waiter.join().await??;
        run.log("main", format!("q.join() returned: {} items marked done", count.done));
        joined = Some((joined_at, count));
        queue.close(); // the consumers are blocked in get(): let them end
    }
    for outcome in threads::join_all(consumer_handles).await? {
        outcome?;
    }
    let records = records.lock().unwrap().clone();
    let at_end = *queue.unfinished.lock().unwrap();
    Ok(Outcome {
        records,
        stops: stops_taken.load(Ordering::SeqCst),
        longest: queue.longest.load(Ordering::Relaxed),
        capacity: queue.capacity,
        joined,
        at_end,
    })
}

async fn run_producer_consumer(run: Run, p: ProducerConsumerParams) -> RunResult<()> {
    let ms = |time: f64| time * p.time_scale;
    let setup = Setup {
        producers: p.producers,
        items: p.items,
        consumers: p.consumers,
        queue_size: p.queue_size,
        times: Arc::new(Durations {
            produce: (ms(p.produce_min_ms), ms(p.produce_max_ms)),
            consume: (ms(p.consume_min_ms), ms(p.consume_max_ms)),
        }),
        seed: match p.seed {
            0 => (crate::clock::now_ms() as u64 % 999_999_999) + 1, // shown in the note, so a run can be repeated
            s => s,
        },
    };
    let produced: Vec<String> =
        (1..=setup.producers).flat_map(|pr| (1..=setup.items).map(move |n| format!("P{pr}-{n}"))).collect();

    for mode in ["threads", "join"] {
        let Some(outcome) = run.measure(mode, one_mode(&run, mode, &setup)).await? else { continue };
        let Outcome { records, stops, longest, capacity, joined, at_end } = outcome;
        // Check, from the records, that every item was consumed exactly once.
        let mut times_consumed: HashMap<String, usize> = HashMap::new();
        for r in &records {
            *times_consumed.entry(r.item.clone()).or_default() += 1;
        }
        let missing = produced.iter().filter(|i| !times_consumed.contains_key(*i)).count();
        let twice = times_consumed.values().filter(|n| **n > 1).count();
        run.verify(
            missing == 0 && twice == 0 && records.len() == produced.len(),
            format!(
                "{mode}: each of the {} items was consumed exactly once (missing: {missing}, more than once: {twice})",
                produced.len()
            ),
        );
        run.verify(
            longest <= capacity,
            format!("{mode}: the queue never held more than {capacity} items (longest: {longest})"),
        );
        match joined {
            None => run.verify(
                stops == setup.consumers,
                format!("{stops} of {} consumers stopped on a sentinel", setup.consumers),
            ),
            Some((joined_at, at_join)) => {
                // join() returned only once the count was zero: every item marked done, and no
                // task_done() came later.
                run.verify(
                    at_join.count == 0 && at_join.done == produced.len() && at_end.done == at_join.done,
                    format!(
                        "q.join() returned after the last task_done(): {} of {} items done when it returned, {} in the end",
                        at_join.done,
                        produced.len(),
                        at_end.done
                    ),
                );
                run.verify(stops == 0, format!("no sentinels: {stops} consumers stopped on one"));
                run.note(
                    mode,
                    format!(
                        "last task_done() at {:.0} ms, join() returned at {joined_at:.0} ms",
                        at_join.last_done_at
                    ),
                );
                run.value("join_done", at_join.done);
                run.value("join_returned_ms", joined_at);
                run.value("last_task_done_ms", at_join.last_done_at);
            }
        }

        let mut per_consumer = vec![0; setup.consumers];
        for r in &records {
            per_consumer[r.consumer - 1] += 1;
        }
        let share: Vec<String> =
            per_consumer.iter().enumerate().map(|(c, n)| format!("consumer {}: {n}", c + 1)).collect();
        run.result(mode, format!("{} items consumed; {}", records.len(), share.join(", ")));
        if mode == "threads" {
            run.note(mode, format!("queue of {capacity}, longest {longest}; seed {}", setup.seed));
            let rows = records
                .iter()
                .map(|r| vec![r.item.clone(), format!("consumer {}", r.consumer), format!("{:.0}", r.taken_at)])
                .collect();
            run.table("Items in the order they were taken", &["item", "consumed by", "taken at (ms)"], rows);
            run.value("consumed", records.iter().map(|r| r.item.clone()).collect::<Vec<_>>());
            run.value("per_consumer", per_consumer);
            run.value("longest", longest);
            run.value("stops", stops);
            run.value("seed", setup.seed);
        } else {
            run.value("join_consumed", records.len());
        }
    }
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            expect_eq("consumed", after(out, "consumed ")?, 10)?;
            expect_eq("done when join() returned", after(out, "joined ")?, 10)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{RunStatus, SpanKind};
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn every_item_is_consumed_exactly_once_and_the_queue_length_is_plotted() {
        let report = run_native("producer-consumer", json!({"time_scale": 0.05, "seed": 3}), true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let mut consumed: Vec<String> =
            report.values["consumed"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        consumed.sort();
        let mut expected: Vec<String> = (1..=2).flat_map(|p| (1..=5).map(move |n| format!("P{p}-{n}"))).collect();
        expected.sort();
        assert_eq!(consumed, expected);
        assert_eq!(report.values["stops"], 3);
        // The plot: a point at the start plus a step (two points) per put and per get
        // (10 items + 3 sentinels), each going up or down by one.
        let series = report.series.iter().find(|s| s.chart == "queue").unwrap();
        assert_eq!(series.points.len(), 1 + 2 * 2 * 13);
        assert!(series.points[1..]
            .chunks(2)
            .all(|step| step[0].0 <= step[1].0 && (step[0].1 - step[1].1).abs() == 1.0));
        assert!(series.points.iter().all(|p| p.1 >= 0.0 && p.1 <= 3.0));
        assert!(series.points.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(series.points.last().unwrap().1, 0.0);
    }

    #[test]
    fn join_returns_after_the_last_task_done_without_sentinels() {
        let report = run_native("producer-consumer", json!({"time_scale": 0.05, "seed": 5}), true);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["join_done"], 10);
        assert_eq!(report.values["join_consumed"], 10);
        let (joined, last) = (report.values["join_returned_ms"].as_f64().unwrap(), report.values["last_task_done_ms"].as_f64().unwrap());
        assert!(joined >= last, "join() returned at {joined} ms, the last task_done() came at {last} ms");
        // main's wait in join() is drawn, and no consumer got a sentinel in that mode.
        assert!(report.spans.iter().any(|s| s.lane == "main" && s.label.starts_with("q.join()")));
        assert!(report.series.iter().any(|s| s.name == "queue length (join)"));
    }

    #[test]
    fn a_small_queue_makes_fast_producers_wait() {
        let params = json!({"queue_size": 1, "items": 6, "produce_min_ms": 0, "produce_max_ms": 2,
            "consume_min_ms": 10, "consume_max_ms": 20, "time_scale": 1.0, "seed": 9, "consumers": 2});
        let report = run_native("producer-consumer", params, true);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["longest"], 1);
        assert!(report.spans.iter().any(|s| s.lane.starts_with("producer") && s.kind == SpanKind::Wait));
        assert_eq!(report.values["consumed"].as_array().unwrap().len(), 12);
    }
}
