//! thread-safety: which operations on shared data are safe from several threads: a read, add,
//! write (`count += 1`) loses updates; one append at a time never loses an item; a deque's
//! check-then-pop fails where queue.Queue's blocking get does not.

use crate::params::{Param, Params};
use crate::topic::{no_check, Chapter, Mode, Model, Needs, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "thread-safety",
        title: "Which operations are thread-safe",
        chapter: Chapter::Threads,
        summary: "Threads on shared data: count += 1 loses updates, one append at a time loses nothing, a deque's check-then-pop fails where queue.Queue's get waits.",
        explanation: crate::prose!("A single operation on a built-in object is safe to call from several threads at once: list.append, dict[key] = value, deque.append and deque.popleft each finish before another thread sees the object. Under the GIL that holds because such a call runs in C without letting go of the GIL; it is an implementation detail of CPython, not a promise of the language. The free-threaded build (3.13t, supported since 3.14) keeps it with a lock inside each list, dict and set. Here each append takes a lock of its own on the shared list, as in that build: the append mode checks that every item of every thread is there, once.\n\n\
What is never safe is a sequence of operations that other threads can interleave. count += 1 is three steps: read count, add one, write the sum back. Two threads that read the same value both write value + 1, and one increment is lost. The first mode runs exactly that on real threads; each write also says what it overwrote, so the run counts the increments it erased and checks that they are all the final count is short by. With a lock around the three steps (with lock: count += 1), nothing is lost. Under the GIL CPython switches threads only at some points of the loop (since 3.10: jumps back and calls), so the same Python loop often loses nothing there, which proves nothing; in the free-threaded build it loses updates as here.\n\n\
The same goes for a check followed by an action. if d: d.popleft() checks that the deque is not empty, then pops; between the two another consumer can take the last item, and popleft raises IndexError on the empty deque. Each call is safe; the pair is not. The deque mode counts those errors (each would be an IndexError in Python), and checks that no item was taken twice or lost: the calls themselves never break. queue.Queue is made for this: get() checks and takes under one lock, and waits on a condition variable while the queue is empty, so no consumer ever finds it empty by surprise. The queue mode runs the same producer and consumers on such a queue, and gets no errors.\n\n\
The short reference page lists queue.Queue as safe, deque as not safe for every operation, list.append and dict item assignment as atomic under the GIL, and a list item assignment (my_list[0] = item) as an unsafe compound operation. That last one is wrong: an item assignment is one operation, like append; what is unsafe is reading an item, computing with it and writing it back, as count += 1 does. And deque's own calls are safe (its documentation says appends and pops from either end are thread-safe): what is not is a sequence of them, like the check-then-pop here.\n\n\
Sources: the short reference page (its list of thread-safe types, its Counter with a Lock), the concepts-and-FAQ tutorial (locks against race conditions), the long tour (queue.Queue between threads) and the eight-techniques article (Queue as the thread-safe way to pass data); Python docs: the library FAQ (what kinds of global value mutation are thread-safe?), collections.deque (thread-safe appends and pops), queue, threading (Lock), Python support for free threading."),
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
        python: crate::prose!(PYTHON),
        check: no_check,
        run: |run, params| Box::pin(run_thread_safety(run, params)),
        // The deque and queue modes add a producer to the consumers.
        needs: |p| Needs::threads(p.count("threads") + 1),
    }
}

const PYTHON: &str = r#"import collections, queue, threading

THREADS = 4
OPERATIONS = 200_000      # increments per thread, sized for CPython (the page's run: 1_000_000)
ITEMS = 20_000            # appended by each thread; through the deque and the queue

def run(target, *args):
    threads = [threading.Thread(target=target, args=(t, *args)) for t in range(THREADS)]
    for t in threads: t.start()
    for t in threads: t.join()

count = 0
def plus_equals(t):
    global count
    for _ in range(OPERATIONS):
        count += 1            # read, add, write: another thread may write in between

lock = threading.Lock()
def locked(t):
    global count
    for _ in range(OPERATIONS):
        with lock:
            count += 1

shared = []
def append(t):
    for i in range(ITEMS):
        shared.append((t, i)) # one call: safe on a built-in list

def consume_deque(t, d, taken, errors, producing):
    while producing.is_set() or d:
        if d:                 # check...
            try:
                taken.append(d.popleft())   # ...then act: another thread may have emptied it
            except IndexError:
                errors.append(t)

def consume_queue(t, q, taken):
    while (item := q.get()) is not None:    # checks and takes under one lock, waits while empty
        taken.append(item)

if __name__ == "__main__":
    expected = THREADS * OPERATIONS
    run(plus_equals)
    print("plus-equals", count, "of", expected)   # under the GIL often all; free-threaded: fewer
    count = 0
    run(locked)
    print("locked", count, "of", expected)
    run(append)
    assert sorted(shared) == [(t, i) for t in range(THREADS) for i in range(ITEMS)]
    print("append", len(shared), "of", THREADS * ITEMS)

    d, taken, errors, producing = collections.deque(), [], [], threading.Event()
    producing.set()
    consumers = [threading.Thread(target=consume_deque, args=(t, d, taken, errors, producing)) for t in range(THREADS)]
    for c in consumers: c.start()
    for i in range(ITEMS):
        d.append(i)
    producing.clear()
    for c in consumers: c.join()
    assert sorted(taken) == list(range(ITEMS))    # popleft itself never loses or repeats an item
    print("deque", len(taken), "taken,", len(errors), "IndexErrors")

    q, taken = queue.Queue(), []
    consumers = [threading.Thread(target=consume_queue, args=(t, q, taken)) for t in range(THREADS)]
    for c in consumers: c.start()
    for i in range(ITEMS):
        q.put(i)
    for _ in consumers:
        q.put(None)           # one stop sentinel per consumer
    for c in consumers: c.join()
    assert sorted(taken) == list(range(ITEMS))
    print("queue", len(taken), "taken, no errors")
"#;

// CODE START
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

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

async fn run_thread_safety(run: Run, p: Params) -> RunResult<()> {
    let (n, operations, items) = (p.count("threads"), p.count("operations"), p.count("items"));
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
