//! race: many threads withdraw from one balance; read-pause-write without a lock loses updates,
//! the same steps under a lock do not.

use serde_json::json;

use crate::params::{group, FieldError, Param, Params};
use crate::topic::{Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "race",
        title: "A race condition: lost updates",
        chapter: Chapter::Threads,
        summary: "Ten threads withdraw 1 a hundred times each from a balance of 1000: without a lock updates get lost; with one the balance ends at 0.",
        explanation: crate::prose!("Withdrawing is three steps: read the balance, work out the new value, write it back. If two threads read the same balance before either writes, both write back the same new value and one withdrawal disappears. That is a race condition: the result depends on the timing of the threads.\n\n\
The unsafe mode does exactly that on a real shared value, with a short pause between reading and writing (as if the thread did some work, or was interrupted). The number of lost updates is counted from the real final balance, and changes from run to run. It can even be zero when the threads happen not to overlap: the code is still wrong, it just got lucky.\n\n\
The safe mode holds a lock (a mutex) around the read, the pause and the write, so only one thread is inside at a time. The balance ends at exactly the expected value, every run, but the threads now wait for each other: the timeline shows the time spent blocked on the lock, and the mode takes longer."),
        params: vec![
            Param::int("balance", "Starting balance", 1000, 0, 1_000_000),
            Param::int("threads", "Threads", 10, 1, 64),
            Param::int("withdrawals", "Withdrawals per thread", 100, 1, 10_000).help("Each withdrawal takes 1."),
            Param::float("pause_ms", "Pause between read and write (ms)", 1.0, 0.0, 50.0, 0.1)
                .help("Widens the window in which another thread can read the same old balance."),
        ],
        presets: vec![
            Preset { id: "no-pause", label: "No pause (a narrow window)", values: json!({"pause_ms": 0.0}) },
            Preset { id: "two-threads", label: "Two threads", values: json!({"threads": 2, "withdrawals": 200}) },
        ],
        modes: vec![
            Mode::new("unsafe", "Unsafe: read, pause, write (no lock)", Model::Threads),
            Mode::new("safe", "Safe: the same under a lock", Model::Threads),
        ],
        code: crate::topic_code!("race.rs"),
        python: crate::prose!(PYTHON),
        check,
        run: |run, params| Box::pin(run_race(run, params)),
        needs: |p| Needs::threads(p.count("threads")),
    }
}

const PYTHON: &str = r#"import threading, time

BALANCE = 1000            # starting balance
THREADS = 10
WITHDRAWALS = 100         # per thread, 1 each
PAUSE_MS = 1.0            # between the read and the write

balance = BALANCE
lock = threading.Lock()

def withdraw_unsafe(times):
    global balance
    for _ in range(times):
        seen = balance          # read
        time.sleep(PAUSE_MS / 1000)   # another thread may read the same value now
        balance = seen - 1      # write back: may overwrite someone else's withdrawal

def withdraw_safe(times):
    global balance
    for _ in range(times):
        with lock:              # one thread at a time inside
            seen = balance
            time.sleep(PAUSE_MS / 1000)
            balance = seen - 1

if __name__ == "__main__":
    for target in (withdraw_unsafe, withdraw_safe):
        balance = BALANCE
        threads = [threading.Thread(target=target, args=(WITHDRAWALS,)) for _ in range(THREADS)]
        for t in threads: t.start()
        for t in threads: t.join()
        lost = balance - (BALANCE - THREADS * WITHDRAWALS)
        print(target.__name__, "final", balance, "lost updates", lost)
"#;

fn check(p: &Params) -> Result<(), FieldError> {
    let steps = p.int("threads") * p.int("withdrawals");
    if steps > 100_000 {
        return Err(FieldError::new(
            "withdrawals",
            format!("threads x withdrawals is {}; keep it at most 100,000", group(steps)),
        ));
    }
    // Under the lock the pauses add up: keep the safe mode under half a minute.
    let locked_ms = steps as f64 * p.float("pause_ms");
    if locked_ms > 30_000.0 {
        return Err(FieldError::new(
            "pause_ms",
            format!("under the lock the pauses add up to {locked_ms:.0} ms; keep threads x withdrawals x pause at most 30,000 ms"),
        ));
    }
    Ok(())
}

// CODE START
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::engines::threads;
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// What one mode ended with.
#[derive(serde::Serialize)]
struct Outcome {
    start: i64,
    withdrawals: i64,
    expected: i64,
    final_balance: i64,
    /// Withdrawals whose effect was overwritten: final - expected, from the real final balance.
    lost: i64,
}

async fn run_race(run: Run, p: Params) -> RunResult<()> {
    let start = p.int("balance");
    let (n_threads, per_thread) = (p.count("threads"), p.count("withdrawals"));
    let pause = p.float("pause_ms");
    let outcome = |final_balance: i64| {
        let withdrawals = (n_threads * per_thread) as i64;
        let expected = start - withdrawals;
        Outcome { start, withdrawals, expected, final_balance, lost: final_balance - expected }
    };

    let unsafe_mode = unsafe_withdrawals(&run, start, n_threads, per_thread, pause);
    if let Some(final_balance) = run.measure("unsafe", unsafe_mode).await? {
        let o = outcome(final_balance);
        run.result("unsafe", format!("final {} (expected {}): {} updates lost", o.final_balance, o.expected, o.lost));
        let note = if n_threads == 1 {
            "one thread alone cannot race with anybody".to_string()
        } else if o.lost == 0 {
            "no update was lost this time: the threads got lucky, the code is still wrong".to_string()
        } else {
            format!(
                "{} of {} withdrawals vanished: threads read the same balance and overwrote each other",
                o.lost, o.withdrawals
            )
        };
        run.log("main", format!("unsafe: {note}"));
        run.note("unsafe", note);
        run.value("unsafe", &o);
    }

    let safe_mode = safe_withdrawals(&run, start, n_threads, per_thread, pause);
    if let Some(final_balance) = run.measure("safe", safe_mode).await? {
        let o = outcome(final_balance);
        run.result("safe", format!("final {} (expected {})", o.final_balance, o.expected));
        run.verify(
            o.lost == 0,
            format!("with the lock the balance ends at exactly {}: got {}", o.expected, o.final_balance),
        );
        run.value("safe", &o);
    }
    Ok(())
}

/// Each thread reads the balance, pauses, and writes back what it read minus 1, with no lock.
/// (An atomic integer with a separate load and store: each step is well defined, but nothing
/// stops another thread from writing between our read and our write.)
async fn unsafe_withdrawals(run: &Run, start: i64, n_threads: usize, per_thread: usize, pause: f64) -> RunResult<i64> {
    let balance = Arc::new(AtomicI64::new(start));
    withdraw_on_threads(run, &balance, n_threads, per_thread, move |run, lane, balance| {
        let began = run.now();
        let seen = balance.load(Ordering::SeqCst); // read
        threads::sleep(run, pause)?; // pause: others may read the same value now
        balance.store(seen - 1, Ordering::SeqCst); // write back
        let now = run.now();
        run.span(lane, format!("read {seen}, wrote {}", seen - 1), SpanKind::Io, began, now);
        run.sample("balance", "unsafe", ("time (ms)", "balance"), (now, (seen - 1) as f64));
        Ok(())
    })
    .await?;
    Ok(balance.load(Ordering::SeqCst))
}

/// The same read, pause and write, but only while holding the lock.
async fn safe_withdrawals(run: &Run, start: i64, n_threads: usize, per_thread: usize, pause: f64) -> RunResult<i64> {
    let balance = Arc::new(Mutex::new(start));
    withdraw_on_threads(run, &balance, n_threads, per_thread, move |run, lane, balance| {
        let asked = run.now();
        let mut guard = balance.lock().unwrap(); // blocks while another thread is inside
        let got = run.now();
        let seen = *guard;
        threads::sleep(run, pause)?;
        *guard = seen - 1;
        drop(guard); // let the next thread in
        let now = run.now();
        if got - asked > 0.02 {
            run.span(lane, "wait for the lock", SpanKind::Wait, asked, got);
        }
        run.span(lane, format!("locked: read {seen}, wrote {}", seen - 1), SpanKind::Io, got, now);
        run.sample("balance", "safe (lock)", ("time (ms)", "balance"), (now, (seen - 1) as f64));
        Ok(())
    })
    .await?;
    let final_balance = *balance.lock().unwrap();
    Ok(final_balance)
}

/// Starts `n_threads` threads ("thread 1", ...) that each call `withdraw` on the shared `balance`
/// `per_thread` times, all beginning at once, and waits for them all: the Python loop that starts
/// and joins the threads.
async fn withdraw_on_threads<B, F>(
    run: &Run,
    balance: &Arc<B>,
    n_threads: usize,
    per_thread: usize,
    withdraw: F,
) -> RunResult<()>
where
    B: Send + Sync + 'static,
    F: Fn(&Run, &str, &B) -> RunResult<()> + Send + Sync + 'static,
{
    let withdraw = Arc::new(withdraw);
    let ready = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for t in 1..=n_threads {
        let (run, balance, withdraw, ready) = (run.clone(), balance.clone(), withdraw.clone(), ready.clone());
        handles.push(threads::spawn(format!("thread {t}"), move || -> RunResult<()> {
            let lane = format!("thread {t}");
            start_together(&run, &lane, &ready, n_threads)?;
            for _ in 0..per_thread {
                withdraw(&run, &lane, &balance)?;
            }
            Ok(())
        })?);
    }
    for outcome in threads::join_all(handles).await? {
        outcome?;
    }
    Ok(())
}

/// Waits until all `n` threads have started (starting one takes a while, in a browser tens
/// of milliseconds), so they really run at the same time, as they would in Python.
fn start_together(run: &Run, lane: &str, ready: &AtomicUsize, n: usize) -> RunResult<()> {
    let arrived = run.now();
    ready.fetch_add(1, Ordering::SeqCst);
    while ready.load(Ordering::SeqCst) < n {
        threads::sleep(run, 0.2)?;
    }
    run.span(lane, "wait for the others to start", SpanKind::Wait, arrived, run.now());
    Ok(())
}
// CODE END

#[cfg(test)]
mod tests {
    use crate::report::{Report, RunStatus, SpanKind};
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    fn int(report: &Report, mode: &str, key: &str) -> i64 {
        report.values[mode][key].as_i64().unwrap_or_else(|| panic!("{mode}.{key} missing: {:?}", report.values))
    }

    #[test]
    fn safe_ends_at_exactly_the_expected_balance_on_every_run() {
        for _ in 0..3 {
            let report =
                run_native("race", json!({"balance": 200, "threads": 8, "withdrawals": 25, "pause_ms": 0.1}), true);
            assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
            assert_eq!(int(&report, "safe", "final_balance"), 0);
            assert_eq!(int(&report, "safe", "lost"), 0);
            assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
            // Blocking on the lock shows as waiting on the timeline.
            assert!(report
                .spans
                .iter()
                .any(|s| s.mode == "safe" && s.kind == SpanKind::Wait && s.label == "wait for the lock"));
        }
    }

    #[test]
    fn unsafe_lost_updates_come_from_the_real_final_balance() {
        let report =
            run_native("race", json!({"balance": 1000, "threads": 10, "withdrawals": 20, "pause_ms": 0.3}), true);
        let final_balance = int(&report, "unsafe", "final_balance");
        let lost = int(&report, "unsafe", "lost");
        assert_eq!(lost, final_balance - (1000 - 200));
        // The final balance is one of the values the threads really wrote.
        let series = report.series.iter().find(|s| s.name == "unsafe").unwrap();
        assert_eq!(series.points.len(), 200);
        assert!(series.points.iter().any(|p| p.1 == final_balance as f64));
        // Ten threads pausing between read and write overlap: updates are lost.
        assert!(lost > 0, "no update lost with 10 overlapping threads");
        let row = report.modes.iter().find(|m| m.id == "unsafe").unwrap();
        assert!(row.result.as_ref().unwrap().contains(&format!("final {final_balance}")));
        assert!(row.note.as_ref().unwrap().contains(&format!("{lost} of 200")));
    }

    #[test]
    fn one_thread_loses_nothing_and_says_why() {
        let report = run_native("race", json!({"balance": 50, "threads": 1, "withdrawals": 30, "pause_ms": 0.0}), true);
        assert_eq!(int(&report, "unsafe", "lost"), 0);
        assert_eq!(int(&report, "unsafe", "final_balance"), 20);
        let row = report.modes.iter().find(|m| m.id == "unsafe").unwrap();
        assert!(row.note.as_ref().unwrap().contains("cannot race"));
    }

    #[test]
    fn too_long_a_locked_run_is_refused() {
        let errors = rejected_native("race", json!({"threads": 64, "withdrawals": 1000, "pause_ms": 10}));
        assert_eq!(errors[0].field, "pause_ms");
    }
}
