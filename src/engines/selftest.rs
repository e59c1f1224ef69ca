//! A self-test of real threads, run by the diagnostics page (and natively by `cargo test`):
//! do N threads really run at the same time, and do blocking primitives work in them?

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::clock::now_ms;
use crate::engines::threads;

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "SelfTestFinding"))]
pub struct Finding {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Runs every check with `n` threads (at least 2).
pub async fn run(n: usize) -> Vec<Finding> {
    let n = n.max(2);
    vec![overlap(n).await, mutex(n).await, condvar().await, channel(n).await]
}

fn finding(name: &'static str, outcome: Result<(bool, String), String>) -> Finding {
    match outcome {
        Ok((ok, detail)) => Finding { name, ok, detail },
        Err(error) => Finding { name, ok: false, detail: error },
    }
}

/// Each thread waits at a barrier (only possible if all n exist at once), then sleeps 100 ms.
/// If the sleeps overlap, the total is about one sleep, not n.
async fn overlap(n: usize) -> Finding {
    let outcome = async {
        let barrier = Arc::new(Barrier::new(n));
        let started = now_ms();
        let mut handles = Vec::new();
        for i in 0..n {
            let barrier = barrier.clone();
            handles.push(threads::spawn(format!("selftest {i}"), move || {
                barrier.wait();
                let from = now_ms();
                std::thread::sleep(Duration::from_millis(100));
                (from, now_ms())
            })?);
        }
        let spans = threads::join_all(handles).await?;
        let latest_start = spans.iter().map(|s| s.0).fold(f64::MIN, f64::max);
        let earliest_end = spans.iter().map(|s| s.1).fold(f64::MAX, f64::min);
        let sleeping =
            spans.iter().map(|s| s.1).fold(f64::MIN, f64::max) - spans.iter().map(|s| s.0).fold(f64::MAX, f64::min);
        let ok = latest_start < earliest_end && sleeping < 100.0 * n as f64 * 0.75;
        Ok::<_, crate::run::RunError>((
            ok,
            format!(
                "{n} threads met at a barrier; their 100 ms sleeps took {sleeping:.0} ms together ({:.0} ms with start-up)",
                now_ms() - started
            ),
        ))
    };
    finding("threads run at the same time", outcome.await.map_err(|e| e.to_string()))
}

async fn mutex(n: usize) -> Finding {
    const EACH: usize = 20_000;
    let outcome = async {
        let counter = Arc::new(Mutex::new(0usize));
        let mut handles = Vec::new();
        for i in 0..n {
            let counter = counter.clone();
            handles.push(threads::spawn(format!("mutex {i}"), move || {
                for _ in 0..EACH {
                    *counter.lock().unwrap() += 1;
                }
            })?);
        }
        threads::join_all(handles).await?;
        let total = *counter.lock().unwrap();
        Ok::<_, crate::run::RunError>((total == n * EACH, format!("{n} threads x {EACH} locked increments = {total}")))
    };
    finding("Mutex", outcome.await.map_err(|e| e.to_string()))
}

/// A consumer thread waits on a condition variable for 200 items a producer thread hands over.
async fn condvar() -> Finding {
    const ITEMS: usize = 200;
    let outcome = async {
        let shared = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
        let waits = Arc::new(AtomicUsize::new(0));
        let (queue, waits2) = (shared.clone(), waits.clone());
        let consumer = threads::spawn("consumer", move || {
            let (items, ready) = &*queue;
            let mut sum = 0;
            for _ in 0..ITEMS {
                let mut guard = items.lock().unwrap();
                while guard.is_empty() {
                    waits2.fetch_add(1, Ordering::Relaxed);
                    guard = ready.wait(guard).unwrap();
                }
                sum += guard.pop_front().unwrap_or(0);
            }
            sum
        })?;
        let producer = threads::spawn("producer", move || {
            let (items, ready) = &*shared;
            for i in 1..=ITEMS {
                items.lock().unwrap().push_back(i);
                ready.notify_one();
                if i % 50 == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })?;
        producer.join().await?;
        let sum = consumer.join().await?;
        let expected = ITEMS * (ITEMS + 1) / 2;
        Ok::<_, crate::run::RunError>((
            sum == expected,
            format!(
                "{ITEMS} items handed over, sum {sum}; the consumer waited {} times",
                waits.load(Ordering::Relaxed)
            ),
        ))
    };
    finding("Condvar", outcome.await.map_err(|e| e.to_string()))
}

async fn channel(n: usize) -> Finding {
    let outcome = async {
        let (send, receive) = mpsc::sync_channel::<usize>(4);
        let mut handles = Vec::new();
        for i in 0..n {
            let send = send.clone();
            handles.push(threads::spawn(format!("sender {i}"), move || {
                for k in 0..100 {
                    send.send(i * 1000 + k).unwrap();
                }
            })?);
        }
        drop(send);
        let receiver = threads::spawn("receiver", move || receive.iter().count())?;
        threads::join_all(handles).await?;
        let count = receiver.join().await?;
        Ok::<_, crate::run::RunError>((
            count == n * 100,
            format!("{n} senders x 100 messages through a bounded channel of 4: {count} received"),
        ))
    };
    finding("mpsc::sync_channel", outcome.await.map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_check_passes_natively() {
        for finding in futures::executor::block_on(super::run(4)) {
            assert!(finding.ok, "{}: {}", finding.name, finding.detail);
        }
    }
}
