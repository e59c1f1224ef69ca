//! Async tasks: futures on one event loop (the engine worker's, in the browser), with timers.
//! Use `futures::join!`/`join_all` to gather them and `futures::channel` to connect them.

use futures::future::{select, Either};

use crate::run::{Run, RunError, RunResult};

/// Waits `ms` milliseconds without blocking the loop; ends early with `Stopped` on Stop.
pub async fn sleep(run: &Run, ms: f64) -> RunResult<()> {
    run.check()?;
    match select(Box::pin(delay(ms)), Box::pin(run.stopped())).await {
        Either::Left(_) => Ok(()),
        Either::Right(_) => Err(RunError::Stopped),
    }
}

/// Resolves after `ms` milliseconds (no Stop: for benchmarks and engines).
pub async fn delay(ms: f64) {
    timer::delay(ms.max(0.0)).await
}

/// Lets the event loop handle other work (messages, timers) before continuing.
pub async fn yield_now() {
    imp::yield_now().await
}

/// Keeps a long computation on the loop polite: every few milliseconds it yields, so progress is
/// shown and Stop is heard. (A real blocking loop would freeze the loop; see the `mixed` topic.)
pub struct Pacer {
    last: f64,
}

impl Pacer {
    const EVERY_MS: f64 = 40.0;

    pub fn new(run: &Run) -> Pacer {
        Pacer { last: run.now() }
    }

    pub async fn tick(&mut self, run: &Run) -> RunResult<()> {
        if run.now() - self.last >= Self::EVERY_MS {
            yield_now().await;
            self.last = run.now();
        }
        run.check()
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub use crate::host::yield_now;
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub async fn yield_now() {
        let mut yielded = false;
        futures::future::poll_fn(|cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod timer {
    use std::time::Duration;

    /// futures-timer keeps every timer in one heap served by one helper thread.
    pub async fn delay(ms: f64) {
        futures_timer::Delay::new(Duration::from_secs_f64(ms / 1000.0)).await
    }
}

/// The event loop's timers, kept like asyncio keeps them: a heap ordered by deadline and ONE
/// `setTimeout` for the earliest. (One `setTimeout` per sleeping task, as futures-timer does in
/// the browser, makes 100,000 concurrent sleeps take several times their length.)
#[cfg(target_arch = "wasm32")]
mod timer {
    use std::cell::RefCell;
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, HashMap};
    use std::future::Future;
    use std::hash::{BuildHasherDefault, Hasher};
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    use crate::clock::now_ms;
    use crate::host::{set_timeout, Callback};

    #[derive(Default)]
    struct Timers {
        /// (deadline in whole microseconds, id): the smallest first.
        heap: BinaryHeap<Reverse<(u64, u64)>>,
        /// Who to wake; a cancelled sleep is removed here and skipped when it leaves the heap.
        wakers: HashMap<u64, Waker, BuildHasherDefault<IdHasher>>,
        next_id: u64,
        /// The deadline the pending `setTimeout` fires for, if one is pending.
        armed: Option<u64>,
        /// `fire` as a JavaScript function, made once.
        callback: Option<Callback>,
    }

    /// The sleeps' ids are handed out in order: multiplying spreads them over the table, and
    /// spares the wasm std's SipHash and its random keys (issue 25).
    #[derive(Default)]
    struct IdHasher(u64);

    impl Hasher for IdHasher {
        fn finish(&self) -> u64 {
            self.0
        }

        fn write(&mut self, _: &[u8]) {
            unreachable!("only u64 ids are hashed")
        }

        fn write_u64(&mut self, id: u64) {
            self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    thread_local! {
        static TIMERS: RefCell<Timers> = RefCell::new(Timers::default());
    }

    fn micros(ms: f64) -> u64 {
        (ms * 1000.0) as u64
    }

    pub fn delay(ms: f64) -> Sleep {
        // Deadline 0: no wait at all (not even a turn of the loop).
        let deadline = if ms > 0.0 { micros(now_ms() + ms) } else { 0 };
        Sleep { deadline, id: None }
    }

    pub struct Sleep {
        deadline: u64,
        id: Option<u64>,
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let deadline = self.deadline;
            let fired = TIMERS.with(|t| {
                let mut t = t.borrow_mut();
                match self.id {
                    // `fire` takes the waker out of the map when the deadline has passed.
                    Some(id) => match t.wakers.get_mut(&id) {
                        None => return true,
                        Some(waker) => waker.clone_from(cx.waker()),
                    },
                    None if deadline == 0 => return true,
                    None => {
                        t.next_id += 1;
                        let id = t.next_id;
                        t.heap.push(Reverse((deadline, id)));
                        t.wakers.insert(id, cx.waker().clone());
                        self.id = Some(id);
                    }
                }
                false
            });
            if fired {
                self.id = None;
                return Poll::Ready(());
            }
            arm();
            Poll::Pending
        }
    }

    impl Drop for Sleep {
        fn drop(&mut self) {
            if let Some(id) = self.id {
                // try_with: the thread-local may already be gone when a thread ends.
                let _ = TIMERS.try_with(|t| t.borrow_mut().wakers.remove(&id));
            }
        }
    }

    /// Makes sure a `setTimeout` is pending for the earliest deadline.
    fn arm() {
        TIMERS.with(|t| {
            let mut t = t.borrow_mut();
            let Some(&Reverse((earliest, _))) = t.heap.peek() else { return };
            if t.armed.is_some_and(|armed| armed <= earliest) {
                return;
            }
            let callback = t.callback.get_or_insert_with(|| Callback::new(fire));
            let wait_ms = (earliest.saturating_sub(micros(now_ms())) as f64 / 1000.0).ceil() as i32;
            if set_timeout(callback, wait_ms) {
                t.armed = Some(earliest);
            }
        });
    }

    /// The `setTimeout` callback: wakes every sleep whose deadline has passed, then re-arms.
    fn fire() {
        let due: Vec<Waker> = TIMERS.with(|t| {
            let mut t = t.borrow_mut();
            t.armed = None;
            let now = micros(now_ms());
            let mut due = Vec::new();
            while let Some(&Reverse((deadline, id))) = t.heap.peek() {
                if deadline > now {
                    break;
                }
                t.heap.pop();
                due.extend(t.wakers.remove(&id));
            }
            due
        });
        // Wake outside the borrow: a woken task may poll a new sleep at once.
        due.into_iter().for_each(Waker::wake);
        arm();
    }
}
