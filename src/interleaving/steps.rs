//! The shared steps a thread lesson's body takes, written once for both engines.
//!
//! A lesson's thread body is an `async fn` generic over [`Steps`]: on real threads
//! ([`ThreadSteps`]) every step happens at once on real shared memory and the body is driven with
//! `block_on` inside the thread; on the scheduler (`schedule.rs`) every step waits until the
//! scheduler (the learner, a search, a seeded random pick) lets that thread move.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::{Op, Track};
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// One shared value and numbered locks, step by step.
// Bodies run on one thread each (a real thread, or the scheduler's single-threaded executor), so
// their futures need not be Send.
#[allow(async_fn_in_trait)]
pub trait Steps {
    /// Reads the shared value: the thread's local copy is now what it read.
    async fn read(&self) -> RunResult<i64>;
    /// Writes `value` over the shared value (whatever it is by now).
    async fn write(&self, value: i64) -> RunResult<()>;
    /// Adds `delta` to the shared value in one indivisible step (an atomic fetch-add); returns
    /// the value it replaced.
    async fn add(&self, delta: i64) -> RunResult<i64>;
    /// Takes lock `lock`, waiting while another thread holds it.
    async fn lock(&self, lock: usize) -> RunResult<()>;
    /// Tries to take lock `lock` for at most `timeout_ms`; false when it did not come. (The
    /// scheduler has no clock: its try is one step, which gives up if the lock is held.)
    async fn try_lock(&self, lock: usize, timeout_ms: f64) -> RunResult<bool>;
    async fn unlock(&self, lock: usize) -> RunResult<()>;
    /// Work that touches nothing shared, named `what` on the timeline ("" for no span of its
    /// own): a real thread sleeps `ms`; the scheduler has no clock, and any other thread may move
    /// here anyway.
    fn pause(&self, what: &str, ms: f64) -> RunResult<()>;
}

const NOBODY: usize = usize::MAX;

/// A lock that knows its holder, so it can be taken and let go by separate steps, as a body says,
/// and a watchdog can see who holds it. Taking it is one compare-and-swap when it is free; a
/// thread that finds it held spins a little, then sleeps on the condition variable.
struct SharedLock {
    name: String,
    holder: AtomicUsize,
    /// Threads asleep waiting for it (its release wakes them only when there are any).
    sleepers: AtomicUsize,
    parked: Mutex<()>,
    freed: Condvar,
    /// How many times it has been taken: a turn number orders what happened under it.
    turns: AtomicU64,
}

impl SharedLock {
    /// Takes it for thread `me` if it is free, spinning a moment first when it is not.
    fn take(&self, me: usize) -> bool {
        for _ in 0..64 {
            let free = self.holder.load(Ordering::Relaxed) == NOBODY;
            if free && self.holder.compare_exchange(NOBODY, me, Ordering::SeqCst, Ordering::Relaxed).is_ok() {
                return true;
            }
            std::hint::spin_loop();
        }
        false
    }

    /// Sleeps until thread `me` has it (`LockAcquire`), `timeout` ms after `asked` have passed
    /// (`LockGiveUp`), or `stop()` (`LockCancelled`).
    fn wait(&self, me: usize, run: &Run, asked: f64, timeout: Option<f64>, stop: impl Fn() -> bool) -> Op {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let outcome = loop {
            if stop() {
                break Op::LockCancelled;
            }
            let parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
            if self.holder.compare_exchange(NOBODY, me, Ordering::SeqCst, Ordering::Relaxed).is_ok() {
                break Op::LockAcquire;
            }
            if timeout.is_some_and(|t| run.now() - asked >= t) {
                break Op::LockGiveUp;
            }
            // Wakes now and then in any case: to see Stop, the watchdog and the timeout.
            drop(self.freed.wait_timeout(parked, Duration::from_millis(2)).unwrap_or_else(|e| e.into_inner()));
        };
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
        outcome
    }

    fn release(&self) {
        self.holder.store(NOBODY, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
            self.freed.notify_one();
        }
    }
}

/// The memory real threads share: the value, the locks, and what a watchdog reads (who waits
/// for which lock, a count of lock moves) and sets (give up every wait).
pub struct SharedMemory {
    value: AtomicI64,
    locks: Vec<SharedLock>,
    waiting: Vec<AtomicUsize>,
    moves: AtomicU64,
    abort: AtomicBool,
}

impl SharedMemory {
    /// The value `value`, the locks named `locks`, for `threads` threads.
    pub fn new(value: i64, locks: &[String], threads: usize) -> SharedMemory {
        let lock = |name: &String| SharedLock {
            name: name.clone(),
            holder: AtomicUsize::new(NOBODY),
            sleepers: AtomicUsize::new(0),
            parked: Mutex::new(()),
            freed: Condvar::new(),
            turns: AtomicU64::new(0),
        };
        SharedMemory {
            value: AtomicI64::new(value),
            locks: locks.iter().map(lock).collect(),
            waiting: (0..threads).map(|_| AtomicUsize::new(NOBODY)).collect(),
            moves: AtomicU64::new(0),
            abort: AtomicBool::new(false),
        }
    }

    pub fn value(&self) -> i64 {
        self.value.load(Ordering::SeqCst)
    }

    /// The thread (0-based) holding lock `lock`.
    pub fn holder(&self, lock: usize) -> Option<usize> {
        Some(self.locks[lock].holder.load(Ordering::SeqCst)).filter(|&h| h != NOBODY)
    }

    /// The lock thread `me` is waiting for.
    pub fn waits_for(&self, me: usize) -> Option<usize> {
        Some(self.waiting[me].load(Ordering::SeqCst)).filter(|&l| l != NOBODY)
    }

    /// Locks taken and released so far (by threads that are not hot loops): progress.
    pub fn moves(&self) -> u64 {
        self.moves.load(Ordering::SeqCst)
    }

    /// Every lock wait gives up from now on (a watchdog found a deadlock).
    pub fn abort(&self) {
        self.abort.store(true, Ordering::SeqCst);
        for lock in &self.locks {
            let _parked = lock.parked.lock().unwrap_or_else(|e| e.into_inner());
            lock.freed.notify_all();
        }
    }

    pub fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }
}

/// How much of its steps a thread records now (see [`ThreadSteps::hot`]).
#[derive(Clone, Copy, PartialEq)]
enum Level {
    /// Every step goes to the track (which keeps a bounded selection).
    Every,
    /// Writes are swaps, and only a write over a value its thread had not read is recorded.
    Watch,
    /// Nothing is recorded, only counted.
    Off,
}

#[derive(Clone, Copy, PartialEq)]
enum Sample {
    No,
    Wanted,
    Now,
}

/// A hot loop records one read and write in this many steps in full, as a sample of the rest.
const SAMPLE_EVERY: u64 = 1 << 14;

/// Real steps of one real thread (number `me`, 0-based): they happen at once on
/// [`SharedMemory`] and are recorded on the thread's own track (a write is a swap, so the track
/// learns what it overwrote).
pub struct ThreadSteps<'a> {
    run: &'a Run,
    lane: &'a str,
    me: usize,
    memory: &'a SharedMemory,
    track: RefCell<&'a mut Track>,
    hot: bool,
    level: Cell<Level>,
    /// A sample: wanted (from the next read on), or being recorded (every step until the write).
    sampling: Cell<Sample>,
    /// Steps done since the track last heard of them, and the value read last.
    unrecorded: Cell<u64>,
    seen: Cell<i64>,
    turn: Cell<u64>,
}

impl<'a> ThreadSteps<'a> {
    pub fn new(run: &'a Run, lane: &'a str, me: usize, memory: &'a SharedMemory, track: &'a mut Track) -> Self {
        ThreadSteps {
            run,
            lane,
            me,
            memory,
            track: RefCell::new(track),
            hot: false,
            level: Cell::new(Level::Every),
            sampling: Cell::new(Sample::No),
            unrecorded: Cell::new(0),
            seen: Cell::new(0),
            turn: Cell::new(0),
        }
    }

    /// For a hot loop (millions of steps): no spans, waits or progress per step, and steps
    /// recorded only while the track wants them in detail; then, while the track still watches,
    /// only the writes that lose an update (found by a swap), with one write in 16,384 sampled;
    /// the rest are counted, and written as plain loads and stores.
    pub fn hot(mut self) -> Self {
        self.hot = true;
        self.relevel();
        self
    }

    /// Whether the next steps should go through these steps (recorded, or counted towards a
    /// sample); when not, a hot loop runs them on [`ThreadSteps::plain`].
    pub fn recording(&self) -> bool {
        self.level() != Level::Off || self.sampling.get() != Sample::No
    }

    /// The same steps on the same memory with nothing recorded, only counted (see
    /// [`Plain::hand_in`]): what a hot loop runs, a chunk at a time, while
    /// [`ThreadSteps::recording`] says no. A recorded step costs far more than a plain load or store, and would change what
    /// the loop measures.
    pub fn plain(&self) -> Plain<'_, 'a> {
        Plain { steps: self, done: Cell::new(0) }
    }

    /// The turn of the lock this thread took last (1 for the first time that lock was taken).
    pub fn turn(&self) -> u64 {
        self.turn.get()
    }

    /// Lets go of every lock this thread holds (it was cancelled in the middle of its body).
    pub fn release_all(&self) {
        for l in 0..self.memory.locks.len() {
            if self.memory.holder(l) == Some(self.me) {
                self.release(l);
            }
        }
    }

    fn level(&self) -> Level {
        if self.sampling.get() == Sample::Now {
            Level::Every
        } else {
            self.level.get()
        }
    }

    fn relevel(&self) {
        let track = self.track.borrow();
        let level = if !self.hot || track.wants_detail() {
            Level::Every
        } else if track.watching() {
            Level::Watch
        } else {
            Level::Off
        };
        self.level.set(level);
    }

    /// Counts a step not recorded (not a read: the level may change here, and a read's write
    /// must be recorded the way its read was). Every SAMPLE_EVERY steps, asks for a sample.
    fn count(&self) {
        let n = self.unrecorded.get() + 1;
        if n < SAMPLE_EVERY {
            self.unrecorded.set(n);
            return;
        }
        self.flush(n);
        if self.track.borrow().is_on() {
            self.sampling.set(Sample::Wanted);
        }
        self.relevel();
    }

    fn flush(&self, n: u64) {
        self.unrecorded.set(0);
        self.track.borrow_mut().skipped(n);
    }

    fn record(&self, op: Op, value: i64, was: i64) {
        let mut track = self.track.borrow_mut();
        match op {
            Op::Read => track.read(value),
            Op::Write => track.write(value, was),
            _ => track.lock(op, value as usize),
        }
        drop(track);
        // Not between a read and its write (see `count`).
        if self.hot && op != Op::Read {
            if op == Op::Write {
                self.sampling.set(Sample::No);
            }
            self.relevel();
        }
    }

    fn record_lock(&self, op: Op, lock: usize) {
        match self.level() {
            Level::Every => self.record(op, lock as i64, lock as i64),
            _ => self.count(),
        }
    }

    /// Waits for lock `l` until `timeout` ms have passed (None: for ever), or the watchdog aborts
    /// every wait, or Stop. Ok(false): the time ran out.
    fn acquire(&self, l: usize, timeout: Option<f64>) -> RunResult<bool> {
        let lock = &self.memory.locks[l];
        self.record_lock(Op::LockWait, l);
        let aborted = || self.memory.aborted() || self.run.is_cancelled();
        if !aborted() && lock.take(self.me) {
            return Ok(self.acquired(l));
        }
        let asked = self.run.now();
        self.memory.waiting[self.me].store(l, Ordering::SeqCst);
        let waiting = (!self.hot).then(|| self.run.waiting(self.lane, &lock.name)); // the engine's own watchdog can name it
        let outcome = lock.wait(self.me, self.run, asked, timeout, aborted);
        self.memory.waiting[self.me].store(NOBODY, Ordering::SeqCst);
        drop(waiting);
        let label = match outcome {
            Op::LockAcquire => format!("wait for {}", lock.name),
            Op::LockGiveUp => format!("gave up on {}", lock.name),
            _ => format!("wait for {} (deadlocked, cancelled)", lock.name),
        };
        let now = self.run.now();
        if !self.hot && now - asked > 0.02 {
            self.run.span(self.lane, label, SpanKind::Wait, asked, now);
        }
        match outcome {
            Op::LockAcquire => Ok(self.acquired(l)),
            Op::LockGiveUp => {
                self.record_lock(Op::LockGiveUp, l);
                Ok(false)
            }
            _ => {
                self.record_lock(Op::LockCancelled, l);
                self.run.check()?;
                Err(RunError::Failed(format!(
                    "{} gave up waiting for {}: a watchdog cancelled it",
                    self.lane, lock.name
                )))
            }
        }
    }

    fn acquired(&self, l: usize) -> bool {
        self.turn.set(self.memory.locks[l].turns.fetch_add(1, Ordering::Relaxed) + 1);
        self.record_lock(Op::LockAcquire, l);
        if !self.hot {
            self.memory.moves.fetch_add(1, Ordering::SeqCst);
        }
        true
    }

    fn release(&self, l: usize) {
        // Recorded first: the next holder's taking it is recorded after this.
        self.record_lock(Op::LockRelease, l);
        self.memory.locks[l].release();
        if !self.hot {
            self.memory.moves.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for ThreadSteps<'_> {
    fn drop(&mut self) {
        self.flush(self.unrecorded.get());
    }
}

impl Steps for ThreadSteps<'_> {
    async fn read(&self) -> RunResult<i64> {
        // Relaxed: under a lock, the lock orders the steps; without one, nothing does.
        let seen = self.memory.value.load(Ordering::Relaxed);
        self.seen.set(seen);
        if self.sampling.get() == Sample::Wanted {
            self.sampling.set(Sample::Now);
        }
        match self.level() {
            Level::Every => self.record(Op::Read, seen, seen),
            _ => self.unrecorded.set(self.unrecorded.get() + 1),
        }
        Ok(seen)
    }

    async fn write(&self, value: i64) -> RunResult<()> {
        match self.level() {
            Level::Every => {
                let was = self.memory.value.swap(value, Ordering::Relaxed);
                self.record(Op::Write, value, was);
            }
            Level::Watch => {
                let was = self.memory.value.swap(value, Ordering::Relaxed);
                if was == self.seen.get() {
                    self.count();
                } else {
                    // Caught in the act: the read it was computed from, then the write.
                    self.flush(self.unrecorded.get().saturating_sub(1));
                    self.record(Op::Read, self.seen.get(), self.seen.get());
                    self.record(Op::Write, value, was);
                }
            }
            Level::Off => {
                self.memory.value.store(value, Ordering::Relaxed);
                self.count();
            }
        }
        Ok(())
    }

    async fn add(&self, delta: i64) -> RunResult<i64> {
        let was = self.memory.value.fetch_add(delta, Ordering::Relaxed);
        match self.level() {
            Level::Every => {
                self.record(Op::Read, was, was);
                self.record(Op::Write, was + delta, was);
            }
            _ => self.count(),
        }
        Ok(was)
    }

    async fn lock(&self, lock: usize) -> RunResult<()> {
        self.acquire(lock, None).map(|_| ())
    }

    async fn try_lock(&self, lock: usize, timeout_ms: f64) -> RunResult<bool> {
        self.acquire(lock, Some(timeout_ms))
    }

    async fn unlock(&self, lock: usize) -> RunResult<()> {
        self.release(lock);
        Ok(())
    }

    fn pause(&self, what: &str, ms: f64) -> RunResult<()> {
        if what.is_empty() || self.hot {
            crate::engines::threads::sleep(self.run, ms)
        } else {
            self.run.timed(self.lane, what, SpanKind::Run, || crate::engines::threads::sleep(self.run, ms))
        }
    }
}

/// See [`ThreadSteps::plain`].
pub struct Plain<'s, 'a> {
    steps: &'s ThreadSteps<'a>,
    // Its own count, not the steps': kept apart, the compiler can hold it in a register.
    done: Cell<u64>,
}

impl Plain<'_, '_> {
    fn tick(&self) {
        self.done.set(self.done.get() + 1);
    }
}

impl Plain<'_, '_> {
    /// Hands the steps done so far to the thread's steps; every SAMPLE_EVERY of them, the next
    /// read and write are recorded as a sample.
    pub fn hand_in(&self) {
        let steps = self.steps;
        let n = steps.unrecorded.get() + self.done.replace(0);
        steps.unrecorded.set(n);
        if n >= SAMPLE_EVERY {
            steps.flush(n);
            if steps.track.borrow().is_on() {
                steps.sampling.set(Sample::Wanted);
            }
            steps.relevel();
        }
    }
}

impl Steps for Plain<'_, '_> {
    async fn read(&self) -> RunResult<i64> {
        self.tick();
        Ok(self.steps.memory.value.load(Ordering::Relaxed))
    }

    async fn write(&self, value: i64) -> RunResult<()> {
        self.tick();
        self.steps.memory.value.store(value, Ordering::Relaxed);
        Ok(())
    }

    async fn add(&self, delta: i64) -> RunResult<i64> {
        self.tick();
        Ok(self.steps.memory.value.fetch_add(delta, Ordering::Relaxed))
    }

    async fn lock(&self, l: usize) -> RunResult<()> {
        let (steps, lock) = (self.steps, &self.steps.memory.locks[l]);
        self.tick(); // asked for it
        if !lock.take(steps.me) {
            let stop = || steps.memory.aborted() || steps.run.is_cancelled();
            if lock.wait(steps.me, steps.run, steps.run.now(), None, stop) != Op::LockAcquire {
                steps.run.check()?;
                return Err(RunError::Failed(format!("{} gave up waiting for {}", steps.lane, lock.name)));
            }
        }
        self.tick(); // took it
        Ok(())
    }

    async fn try_lock(&self, lock: usize, timeout_ms: f64) -> RunResult<bool> {
        self.steps.try_lock(lock, timeout_ms).await
    }

    async fn unlock(&self, lock: usize) -> RunResult<()> {
        self.tick();
        self.steps.memory.locks[lock].release();
        Ok(())
    }

    fn pause(&self, what: &str, ms: f64) -> RunResult<()> {
        self.steps.pause(what, ms)
    }
}
