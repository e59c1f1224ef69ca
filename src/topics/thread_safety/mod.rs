//! thread-safety: which operations on shared data are safe from several threads: a read, add,
//! write (`count += 1`) loses updates; one append at a time never loses an item; a deque's
//! check-then-pop fails where queue.Queue's blocking get does not.

use crate::params::Param;
use crate::topic::{reads, no_check, Chapter, Mode, Model, Needs, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "thread-safety",
        title: "Which operations are thread-safe",
        chapter: Chapter::Threads,
        summary: "Threads on shared data: count += 1 loses updates, one append at a time loses nothing, a deque's check-then-pop fails where queue.Queue's get waits.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("threads", "Threads", 4, 2, 16).help("Counting and appending threads; consumers in the deque and queue modes."),
            Param::int("operations", "Increments per thread", 1_000_000, 1_000, 10_000_000)
                .help("For the first two modes: a few hundred thousand may not overlap at all."),
            Param::int("items", "Items", 20_000, 100, 1_000_000)
                .help("Appended by each thread; put through the deque and the queue."),
        ],
        presets: vec![],
        modes: vec![
            Mode::new("plus-equals", "count += 1: read, add, write", Model::Threads),
            Mode::new("locked", "with lock: count += 1", Model::Threads),
            Mode::new("append", "list.append from every thread", Model::Threads),
            Mode::new("deque", "deque: if d: d.popleft() (check, then act)", Model::Threads),
            Mode::new("queue", "queue.Queue: get() waits while empty", Model::Threads),
        ],
        code: crate::topic_code!("thread_safety/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: no_check,
        run: |run, params| Box::pin(run_thread_safety(run, params.read())),
        // The deque and queue modes add a producer to the consumers.
        needs: |p| Needs::threads(p.read::<ThreadSafetyParams>().threads + 1),
        reads: reads::<ThreadSafetyParams>,
    }
}

// CODE START
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadSafetyParams {
    threads: usize,
    operations: usize,
    items: usize,
}

/// Waits until all `n` threads are here, so they start their loops together (in the browser a
/// thread may take a while to start); spins, as the loops are short, and hears Stop.
fn start_line(run: &Run, ready: &AtomicUsize, n: usize) -> RunResult<()> {
    ready.fetch_add(1, Ordering::SeqCst);
    while ready.load(Ordering::SeqCst) < n {
        run.check()?;
        std::hint::spin_loop();
    }
    Ok(())
}

/// Starts a thread per name running `body(k)` (k: the name's index) from a common start line,
/// and waits for them all.
async fn on_threads<T: Send + 'static>(
    run: &Run,
    names: Vec<String>,
    body: impl Fn(usize) -> RunResult<T> + Send + Sync + 'static,
) -> RunResult<Vec<T>> {
    let (body, ready, n) = (Arc::new(body), Arc::new(AtomicUsize::new(0)), names.len());
    let mut handles = Vec::new();
    for (k, name) in names.into_iter().enumerate() {
        let (run, body, ready) = (run.clone(), body.clone(), ready.clone());
        handles.push(threads::spawn(name, move || {
            start_line(&run, &ready, n)?;
            body(k)
        })?);
    }
    threads::join_all(handles).await?.into_iter().collect()
}

/// `thread 1` .. `thread n`.
fn numbered(what: &str, n: usize) -> Vec<String> {
    (1..=n).map(|k| format!("{what} {k}")).collect()
}

/// `count += 1` as Python runs it: read the count, add one, write it back. The write is a swap,
/// which returns the value it overwrote: when that is not what this thread read, other threads
/// wrote in between, and this write erased (overwrote minus read) of their increments.
fn plus_equals(count: &AtomicU64, operations: usize) -> i64 {
    let mut erased = 0i64;
    for _ in 0..operations {
        let read = count.load(Ordering::Relaxed);
        let overwritten = count.swap(read + 1, Ordering::Relaxed);
        erased += overwritten as i64 - read as i64;
    }
    erased
}

/// A deque whose every call is safe on its own (a lock per call), as collections.deque's are.
#[derive(Default)]
struct Deque(Mutex<VecDeque<u64>>);

impl Deque {
    fn append(&self, item: u64) {
        self.0.lock().unwrap().push_back(item);
    }
    fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }
    /// `None` where Python's popleft raises IndexError: the deque was empty.
    fn popleft(&self) -> Option<u64> {
        self.0.lock().unwrap().pop_front()
    }
}

/// queue.Queue, unbounded: get() checks and takes under one lock, and waits while it is empty.
#[derive(Default)]
struct Queue {
    items: Mutex<VecDeque<Option<u64>>>,
    not_empty: Condvar,
}

impl Queue {
    fn put(&self, item: Option<u64>) {
        self.items.lock().unwrap().push_back(item);
        self.not_empty.notify_one();
    }
    fn get(&self, run: &Run) -> RunResult<Option<u64>> {
        let mut items = self.items.lock().unwrap();
        loop {
            if let Some(item) = items.pop_front() {
                return Ok(item);
            }
            run.check()?;
            items = self.not_empty.wait_timeout(items, Duration::from_millis(10)).unwrap().0;
        }
    }
}

/// Each item taken at most once and none missing: what the deque's and the queue's own calls guarantee.
fn each_once(taken: &[Vec<u64>], items: usize) -> bool {
    let mut seen = vec![false; items];
    for &item in taken.iter().flatten() {
        match seen.get_mut(item as usize) {
            Some(s) if !*s => *s = true,
            _ => return false,
        }
    }
    seen.iter().all(|s| *s)
}

async fn run_thread_safety(run: Run, p: ThreadSafetyParams) -> RunResult<()> {
    let (n, operations, items) = (p.threads, p.operations, p.items);
    let expected = (n * operations) as u64;

    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    let counted = run.measure("plus-equals", on_threads(&run, numbered("thread", n), {
        let run = run.clone();
        move |t| Ok(run.timed(&format!("thread {}", t + 1), "count += 1 (read, add, write)", SpanKind::Run, || plus_equals(&counter, operations)))
    }));
    if let Some(erased) = counted.await? {
        let (total, erased): (u64, i64) = (count.load(Ordering::SeqCst), erased.iter().sum());
        let lost = expected.saturating_sub(total);
        // Every write that did not overwrite what its thread read erased exactly the difference.
        run.verify(
            lost as i64 == erased,
            format!("plus-equals: {lost} increments lost, and the writes erased {erased}: every loss accounted for"),
        );
        run.result("plus-equals", format!("{total} of {expected}: {lost} updates lost"));
        if lost == 0 {
            run.note("plus-equals", "the threads did not overlap this time: try more operations");
        }
        run.value("plus_equals_lost", lost);
    }

    let locked_count = Arc::new(Mutex::new(0u64));
    let shared = locked_count.clone();
    let locked = run.measure("locked", on_threads(&run, numbered("thread", n), {
        let run = run.clone();
        move |t| {
            run.timed(&format!("thread {}", t + 1), "with lock: count += 1", SpanKind::Run, || {
                for _ in 0..operations {
                    *shared.lock().unwrap() += 1; // read, add and write under one lock
                }
            });
            Ok(())
        }
    }));
    if locked.await?.is_some() {
        let total = *locked_count.lock().unwrap();
        run.verify(total == expected, format!("locked: {total} of {expected}, none lost"));
        run.result("locked", format!("{total} of {expected}"));
    }

    let list = Arc::new(Mutex::new(Vec::<(usize, usize)>::with_capacity(n * items)));
    let shared = list.clone();
    let appended = run.measure("append", on_threads(&run, numbered("thread", n), {
        let run = run.clone();
        move |t| {
            run.timed(&format!("thread {}", t + 1), "list.append((t, i))", SpanKind::Run, || {
                for i in 0..items {
                    shared.lock().unwrap().push((t, i)); // one call, one lock: the list's own
                }
            });
            Ok(())
        }
    }));
    if appended.await?.is_some() {
        let mut all = std::mem::take(&mut *list.lock().unwrap());
        all.sort_unstable();
        let each_once =
            all.len() == n * items && all.iter().enumerate().all(|(k, &(t, i))| (t, i) == (k / items, k % items));
        run.verify(each_once, format!("append: {} of {} items, each thread's every item once", all.len(), n * items));
        run.result("append", format!("{} of {} items", all.len(), n * items));
    }

    // One producer appends; n consumers check, then pop.
    let deque = Arc::new(Deque::default());
    let (producing, index_errors) = (Arc::new(AtomicBool::new(true)), Arc::new(AtomicUsize::new(0)));
    // A producer and n consumers, all from one start line: the deque stays near empty while they run.
    let threads = {
        let (run, deque, producing, errors) = (run.clone(), deque.clone(), producing.clone(), index_errors.clone());
        move |k: usize| -> RunResult<Vec<u64>> {
            let mut taken = Vec::new();
            if k == 0 {
                run.timed("producer", "d.append(i)", SpanKind::Run, || (0..items as u64).for_each(|i| deque.append(i)));
                producing.store(false, Ordering::SeqCst);
                return Ok(taken);
            }
            run.timed(&format!("consumer {k}"), "if d: d.popleft()", SpanKind::Run, || {
                while producing.load(Ordering::SeqCst) || !deque.is_empty() {
                    if !deque.is_empty() {
                        // Another consumer may take the last item right here.
                        match deque.popleft() {
                            Some(item) => taken.push(item),
                            None => {
                                errors.fetch_add(1, Ordering::Relaxed); // IndexError: pop from an empty deque
                            }
                        }
                    }
                }
            });
            Ok(taken)
        }
    };
    let names: Vec<String> = std::iter::once("producer".to_string()).chain(numbered("consumer", n)).collect();
    let popped = run.measure("deque", on_threads(&run, names.clone(), threads));
    if let Some(taken) = popped.await? {
        let errors = index_errors.load(Ordering::SeqCst);
        run.verify(
            each_once(&taken, items),
            format!("deque: each of the {items} items taken once: every popleft on its own was safe"),
        );
        run.result("deque", format!("{errors} pops found the deque empty (IndexError)"));
        run.note("deque", "the check and the pop are two calls: another consumer can empty the deque in between");
        run.value("deque_index_errors", errors);
    }

    let queue = Arc::new(Queue::default());
    let threads = {
        let (run, queue) = (run.clone(), queue.clone());
        move |k: usize| -> RunResult<Vec<u64>> {
            let mut taken = Vec::new();
            if k == 0 {
                run.timed("producer", "q.put(i), then a None per consumer", SpanKind::Run, || {
                    (0..items as u64).for_each(|i| queue.put(Some(i)));
                    (0..n).for_each(|_| queue.put(None));
                });
                return Ok(taken);
            }
            let start = run.now();
            while let Some(item) = queue.get(&run)? {
                taken.push(item);
            }
            run.span(format!("consumer {k}"), "q.get() until None", SpanKind::Run, start, run.now());
            Ok(taken)
        }
    };
    let got = run.measure("queue", on_threads(&run, names, threads));
    if let Some(taken) = got.await? {
        run.verify(each_once(&taken, items), format!("queue: each of the {items} items taken once, no errors"));
        let shares: Vec<String> = taken[1..].iter().map(|t| t.len().to_string()).collect();
        run.result("queue", format!("{items} items, 0 errors; per consumer: {}", shares.join(", ")));
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
            // count += 1 may or may not lose updates under the GIL: only the safe operations are checked.
            expect_eq("locked count", after(out, "locked ")?, 4 * 200_000)?;
            expect_eq("appended", after(out, "append ")?, 4 * 20_000)?;
            expect_eq("taken from the deque", after(out, "deque ")?, 20_000)?;
            expect_eq("taken from the queue", after(out, "queue ")?, 20_000)
        },
        sized_for_cpython: &["operations"],
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::RunStatus;
    use crate::runner::testing::run_native;
    use serde_json::json;

    #[test]
    fn losses_are_accounted_for_and_the_safe_operations_lose_nothing() {
        let report = run_native("thread-safety", json!({"threads": 4, "operations": 1_000_000, "items": 20_000}), true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.checks.len(), 5);
        assert_eq!(report.modes.len(), 5);
        // Four threads doing 200,000 read-add-writes each lose some on any machine with two cores.
        if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
            assert!(report.values["plus_equals_lost"].as_u64().unwrap() > 0, "{:?}", report.checks);
        }
    }
}
