//! producer-consumer: producers put items on a bounded, thread-safe queue; consumers take them
//! off; stop sentinels end the consumers. Queue length is plotted over time.

use serde_json::json;

use crate::params::{FieldError, Param, Params};
use crate::topic::{Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "producer-consumer",
        title: "Producers and consumers on a bounded queue",
        chapter: Chapter::Threads,
        summary: "2 producers make 5 items each, 3 consumers take them from a bounded thread-safe queue; sentinels tell the consumers to stop.",
        explanation: crate::prose!("A queue decouples threads that make work from threads that do it. Producers put items in, consumers take them out, and neither needs to know about the other. The queue is thread-safe: a lock guards it, and two condition variables let a consumer sleep while it is empty and a producer sleep while it is full.\n\n\
The bound matters. With a small maximum size, fast producers must wait for slow consumers (back-pressure) and memory stays small; with a large one the queue fills up instead. The chart shows the queue length over time, and the timeline shows who waits on the queue: producers when it is full, consumers when it is empty.\n\n\
How do consumers know that no more items will come? When the last producer is done it puts one stop sentinel (Python code often uses None) per consumer on the queue. A consumer that takes a sentinel stops. The run checks from its records that every item was consumed exactly once.\n\n\
The long tour's version sends too many sentinels: each producer puts a None when it is done, and the main thread then puts one per consumer. A consumer can take the first producer's None and stop while the other producer is still producing, leaving fewer consumers for the rest. Its consumers call task_done() after each item, but nobody calls join(): together they are the other way to wait for the work. Queue counts the items put and not yet marked done by task_done(); join() blocks until that count is back to zero, that is, until every item has been fully handled, not merely taken. The Python below calls both, after the threads have ended, as a check.\n\n\
Sources: the long tour (its producer-consumer with queue.Queue) and the eight-techniques article (Queue as the thread-safe way to pass data); Python docs: queue (Queue, put, get, task_done, join), threading."),
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
        modes: vec![Mode::new("threads", "Producer and consumer threads", Model::Threads)],
        code: crate::topic_code!("producer_consumer.rs"),
        python: crate::prose!(PYTHON),
        check,
        run: |run, params| Box::pin(run_producer_consumer(run, params)),
        needs: |p| Needs::threads(p.count("producers") + p.count("consumers")),
    }
}

const PYTHON: &str = r#"import queue, random, threading, time

PRODUCERS, ITEMS, CONSUMERS = 2, 5, 3     # ITEMS per producer
QUEUE_SIZE = 3            # put() blocks while full (the tutorial's queue was unbounded)
PRODUCE_MIN_MS, PRODUCE_MAX_MS = 100, 500
CONSUME_MIN_MS, CONSUME_MAX_MS = 200, 800
TIME_SCALE = 0.5
SEED = 0                  # 0: new each run

q = queue.Queue(maxsize=QUEUE_SIZE)
left = PRODUCERS
left_lock = threading.Lock()
consumed = []

def producer(p):
    global left
    for n in range(1, ITEMS + 1):
        time.sleep(random.uniform(PRODUCE_MIN_MS, PRODUCE_MAX_MS) / 1000 * TIME_SCALE)
        q.put(f"P{p}-{n}")
    with left_lock:
        left -= 1
        if left == 0:                  # the last producer sends the sentinels, one per consumer
            for _ in range(CONSUMERS):
                q.put(None)

def consumer(c):
    while (item := q.get()) is not None:
        time.sleep(random.uniform(CONSUME_MIN_MS, CONSUME_MAX_MS) / 1000 * TIME_SCALE)
        print(f"consumer {c} consumed {item}")
        consumed.append(item)          # list.append is one step: safe without a lock
        q.task_done()                  # this item is fully handled
    q.task_done()                      # the sentinel too

if __name__ == "__main__":
    random.seed(SEED or None)
    threads = [threading.Thread(target=producer, args=(p,)) for p in range(1, PRODUCERS + 1)]
    threads += [threading.Thread(target=consumer, args=(c,)) for c in range(1, CONSUMERS + 1)]
    for t in threads: t.start()
    for t in threads: t.join()
    q.join()                           # returns once every put() has had its task_done()
    assert sorted(consumed) == sorted(f"P{p}-{n}" for p in range(1, PRODUCERS + 1) for n in range(1, ITEMS + 1))
    print("consumed", len(consumed), "items, each once")
"#;

fn check(p: &Params) -> Result<(), FieldError> {
    for (lo, hi) in [("produce_min_ms", "produce_max_ms"), ("consume_min_ms", "consume_max_ms")] {
        if p.int(lo) > p.int(hi) {
            return Err(FieldError::new(hi, "The longest time must be at least the shortest"));
        }
    }
    // Worst case: one producer's items made one after another, or all items consumed by the consumers.
    let scale = p.float("time_scale");
    let producing = (p.int("items") * p.int("produce_max_ms")) as f64 * scale;
    let total_items = p.int("producers") * p.int("items");
    let consuming = (total_items * p.int("consume_max_ms")) as f64 * scale / p.int("consumers") as f64;
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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// What travels on the queue: an item, or the sentinel that tells a consumer to stop.
#[derive(Clone, Debug, PartialEq)]
enum Msg {
    Item(String),
    Stop,
}

/// A thread-safe queue with a maximum size: a lock around a VecDeque, plus two condition
/// variables to sleep on while it is empty or full.
struct BoundedQueue {
    items: Mutex<VecDeque<Msg>>,
    not_empty: Condvar,
    not_full: Condvar,
    capacity: usize,
    /// The longest the queue ever was (recorded, to check the bound).
    longest: AtomicUsize,
    /// When the chart got its last point (f64 bits; only touched while holding the lock).
    last_point: AtomicU64,
}

/// Condition waits wake up at least this often, to notice Stop.
const SLICE: Duration = Duration::from_millis(10);

impl BoundedQueue {
    fn new(capacity: usize) -> BoundedQueue {
        BoundedQueue {
            items: Mutex::new(VecDeque::new()),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
            longest: AtomicUsize::new(0),
            last_point: AtomicU64::new(0),
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
        items.push_back(msg);
        self.changed(run, &items, items.len() - 1);
        drop(items);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Takes the oldest message, waiting while the queue is empty.
    fn get(&self, run: &Run, lane: &str) -> RunResult<Msg> {
        let asked = run.now();
        let mut items = self.items.lock().unwrap();
        let msg = loop {
            if let Some(msg) = items.pop_front() {
                break msg;
            }
            run.check()?;
            items = self.not_empty.wait_timeout(items, SLICE).unwrap().0;
        };
        waited(run, lane, "wait: queue empty", asked);
        self.changed(run, &items, items.len() + 1);
        drop(items);
        self.not_full.notify_one();
        Ok(msg)
    }

    /// Records the length before and after a change, so the chart draws steps (while still
    /// holding the lock, so the samples are in order).
    fn changed(&self, run: &Run, items: &MutexGuard<VecDeque<Msg>>, before: usize) {
        self.longest.fetch_max(items.len(), Ordering::Relaxed);
        let last = f64::from_bits(self.last_point.load(Ordering::Relaxed));
        let now = run.now().max(last);
        for (t, len) in [((now - 0.001).max(last), before), (now, items.len())] {
            run.sample("queue", "queue length", ("time (ms)", "items in the queue"), (t, len as f64));
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

async fn run_producer_consumer(run: Run, p: Params) -> RunResult<()> {
    let (producers, items, consumers) = (p.count("producers"), p.count("items"), p.count("consumers"));
    let scale = p.float("time_scale");
    let ms = |name: &str| p.float(name) * scale;
    let times = Arc::new(Durations {
        produce: (ms("produce_min_ms"), ms("produce_max_ms")),
        consume: (ms("consume_min_ms"), ms("consume_max_ms")),
    });
    let seed = match p.int("seed") {
        0 => (crate::clock::now_ms() as u64 % 999_999_999) + 1, // shown in the note, so a run can be repeated
        s => s as u64,
    };
    let queue = Arc::new(BoundedQueue::new(p.count("queue_size")));
    let producers_left = Arc::new(AtomicUsize::new(producers));
    let records = Arc::new(Mutex::new(Vec::<Consumed>::new()));
    let stops_taken = Arc::new(AtomicUsize::new(0));
    run.sample("queue", "queue length", ("time (ms)", "items in the queue"), (0.0, 0.0));

    let work = run.measure("threads", async {
        let mut handles = Vec::new();
        for c in 1..=consumers {
            let (run, queue, records, stops, times) =
                (run.clone(), queue.clone(), records.clone(), stops_taken.clone(), times.clone());
            let mut rng = fastrand::Rng::with_seed(seed ^ (1000 + c as u64));
            handles.push(threads::spawn(format!("consumer {c}"), move || -> RunResult<()> {
                let lane = format!("consumer {c}");
                loop {
                    let Msg::Item(item) = queue.get(&run, &lane)? else {
                        stops.fetch_add(1, Ordering::SeqCst);
                        run.log(&lane, "got a stop sentinel: done");
                        return Ok(());
                    };
                    let taken_at = run.now();
                    records.lock().unwrap().push(Consumed { item: item.clone(), consumer: c, taken_at });
                    let spend = rng.f64() * (times.consume.1 - times.consume.0) + times.consume.0;
                    run.timed(&lane, &format!("consume {item}"), SpanKind::Io, || threads::sleep(&run, spend))?;
                    run.log(&lane, format!("consumed {item}"));
                }
            })?);
        }
        for pr in 1..=producers {
            let (run, queue, left, times) = (run.clone(), queue.clone(), producers_left.clone(), times.clone());
            let mut rng = fastrand::Rng::with_seed(seed ^ pr as u64);
            handles.push(threads::spawn(format!("producer {pr}"), move || -> RunResult<()> {
                let lane = format!("producer {pr}");
                for n in 1..=items {
                    let item = format!("P{pr}-{n}");
                    let spend = rng.f64() * (times.produce.1 - times.produce.0) + times.produce.0;
                    run.timed(&lane, &format!("make {item}"), SpanKind::Io, || threads::sleep(&run, spend))?;
                    queue.put(&run, &lane, Msg::Item(item.clone()))?;
                    run.log(&lane, format!("put {item}"));
                }
                // The last producer to finish tells every consumer to stop.
                if left.fetch_sub(1, Ordering::SeqCst) == 1 {
                    run.log(&lane, format!("last producer done: putting {consumers} stop sentinels"));
                    for _ in 0..consumers {
                        queue.put(&run, &lane, Msg::Stop)?;
                    }
                }
                Ok(())
            })?);
        }
        for outcome in threads::join_all(handles).await? {
            outcome?;
        }
        Ok(())
    });
    if work.await?.is_none() {
        return Ok(());
    }

    // Check, from the records, that every item was consumed exactly once.
    let records = records.lock().unwrap().clone();
    let mut times_consumed: HashMap<String, usize> = HashMap::new();
    for r in &records {
        *times_consumed.entry(r.item.clone()).or_default() += 1;
    }
    let produced: Vec<String> = (1..=producers).flat_map(|pr| (1..=items).map(move |n| format!("P{pr}-{n}"))).collect();
    let missing: Vec<&String> = produced.iter().filter(|i| !times_consumed.contains_key(*i)).collect();
    let twice: Vec<&String> = times_consumed.iter().filter(|(_, n)| **n > 1).map(|(i, _)| i).collect();
    let longest = queue.longest.load(Ordering::Relaxed);
    let stops = stops_taken.load(Ordering::SeqCst);
    run.verify(
        missing.is_empty() && twice.is_empty() && records.len() == produced.len(),
        format!(
            "each of the {} items was consumed exactly once (missing: {}, more than once: {})",
            produced.len(),
            missing.len(),
            twice.len()
        ),
    );
    run.verify(stops == consumers, format!("{stops} of {consumers} consumers stopped on a sentinel"));
    run.verify(
        longest <= queue.capacity,
        format!("the queue never held more than {} items (longest: {longest})", queue.capacity),
    );

    let mut per_consumer = vec![0; consumers];
    for r in &records {
        per_consumer[r.consumer - 1] += 1;
    }
    let share: Vec<String> = per_consumer.iter().enumerate().map(|(c, n)| format!("consumer {}: {n}", c + 1)).collect();
    run.result("threads", format!("{} items consumed; {}", records.len(), share.join(", ")));
    run.note("threads", format!("queue of {}, longest {longest}; seed {seed}", queue.capacity));
    let rows = records
        .iter()
        .map(|r| vec![r.item.clone(), format!("consumer {}", r.consumer), format!("{:.0}", r.taken_at)])
        .collect();
    run.table("Items in the order they were taken", &["item", "consumed by", "taken at (ms)"], rows);
    run.value("consumed", records.iter().map(|r| r.item.clone()).collect::<Vec<_>>());
    run.value("per_consumer", per_consumer);
    run.value("longest", longest);
    run.value("stops", stops);
    run.value("seed", seed);
    Ok(())
}
// CODE END

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
