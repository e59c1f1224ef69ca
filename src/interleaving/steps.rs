//! The shared steps a thread lesson's body takes, written once for both engines.
//!
//! A lesson's thread body is an `async fn` generic over [`Steps`]: on real threads
//! ([`ThreadSteps`]) every step happens at once on real shared memory and the body is driven with
//! `block_on` inside the thread; on the scheduler (`schedule.rs`) every step waits until the
//! scheduler (the learner, a search, a seeded random pick) lets that thread move.

use std::cell::RefCell;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::{Op, Track};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// One shared value and numbered locks, step by step.
// Bodies run on one thread each (a real thread, or the scheduler's single-threaded executor), so
// their futures need not be Send.
#[allow(async_fn_in_trait)]
pub trait Steps {
    /// Reads the shared value: the thread's local copy is now what it read.
    async fn read(&self) -> RunResult<i64>;
    /// Writes `value` over the shared value (whatever it is by now).
    async fn write(&self, value: i64) -> RunResult<()>;
    /// Takes lock `lock`, waiting while another thread holds it.
    async fn lock(&self, lock: usize) -> RunResult<()>;
    async fn unlock(&self, lock: usize) -> RunResult<()>;
    /// Work that touches nothing shared (a pause): a real thread sleeps `ms`; the scheduler has
    /// no clock, and any other thread may move here anyway.
    fn pause(&self, ms: f64) -> RunResult<()>;
}

/// The memory real threads share: the value and the locks, each lock knowing its holder (so a
/// lock can be taken and let go by separate steps, as the body says).
pub struct SharedMemory {
    value: AtomicI64,
    locks: Vec<(Mutex<bool>, Condvar)>,
}

impl SharedMemory {
    pub fn new(value: i64, locks: usize) -> SharedMemory {
        SharedMemory { value: AtomicI64::new(value), locks: (0..locks).map(|_| Default::default()).collect() }
    }

    pub fn value(&self) -> i64 {
        self.value.load(Ordering::SeqCst)
    }
}

/// Real steps of one real thread: they happen at once on [`SharedMemory`] and are recorded on
/// the thread's own track (a write is a swap, so the track learns what it overwrote).
pub struct ThreadSteps<'a> {
    pub run: &'a Run,
    pub lane: &'a str,
    pub memory: &'a SharedMemory,
    pub track: RefCell<&'a mut Track>,
}

impl Steps for ThreadSteps<'_> {
    async fn read(&self) -> RunResult<i64> {
        let seen = self.memory.value.load(Ordering::SeqCst);
        self.track.borrow_mut().read(seen);
        Ok(seen)
    }

    async fn write(&self, value: i64) -> RunResult<()> {
        let was = self.memory.value.swap(value, Ordering::SeqCst);
        self.track.borrow_mut().write(value, was);
        Ok(())
    }

    async fn lock(&self, lock: usize) -> RunResult<()> {
        let asked = self.run.now();
        self.track.borrow_mut().lock(Op::LockWait, lock);
        let (held, freed) = &self.memory.locks[lock];
        let mut taken = held.lock().unwrap_or_else(|e| e.into_inner());
        while *taken {
            // Wakes now and then to see Stop: a thread blocked for ever must still end.
            taken = freed.wait_timeout(taken, Duration::from_millis(5)).unwrap_or_else(|e| e.into_inner()).0;
            if *taken {
                if let Err(stopped) = self.run.check() {
                    self.track.borrow_mut().lock(Op::LockCancelled, lock);
                    return Err(stopped);
                }
            }
        }
        *taken = true;
        self.track.borrow_mut().lock(Op::LockAcquire, lock);
        let got = self.run.now();
        if got - asked > 0.02 {
            self.run.span(self.lane, "wait for the lock", SpanKind::Wait, asked, got);
        }
        Ok(())
    }

    async fn unlock(&self, lock: usize) -> RunResult<()> {
        let (held, freed) = &self.memory.locks[lock];
        *held.lock().unwrap_or_else(|e| e.into_inner()) = false;
        freed.notify_one();
        self.track.borrow_mut().lock(Op::LockRelease, lock);
        Ok(())
    }

    fn pause(&self, ms: f64) -> RunResult<()> {
        crate::engines::threads::sleep(self.run, ms)
    }
}
