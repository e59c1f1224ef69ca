//! Async tasks: futures on one event loop (the engine worker's, in the browser), with timers.
//! Use `futures::join!`/`join_all` to gather them and `futures::channel` to connect them.

use std::time::Duration;

use futures::future::{select, Either};
use futures_timer::Delay;

use crate::run::{Run, RunError, RunResult};

/// Waits `ms` milliseconds without blocking the loop; ends early with `Stopped` on Stop.
pub async fn sleep(run: &Run, ms: f64) -> RunResult<()> {
    run.check()?;
    let delay = Delay::new(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    match select(delay, Box::pin(run.stopped())).await {
        Either::Left(_) => Ok(()),
        Either::Right(_) => Err(RunError::Stopped),
    }
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
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        // A MessageChannel round trip: unlike setTimeout(0) it is never clamped to 4 ms.
        #[wasm_bindgen(js_namespace = playgroundHost, js_name = yieldNow)]
        fn host_yield_now() -> js_sys::Promise;
    }

    pub async fn yield_now() {
        let _ = wasm_bindgen_futures::JsFuture::from(host_yield_now()).await;
    }
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
