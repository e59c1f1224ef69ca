//! bank: a few threads make random deposits and withdrawals on one account under a lock;
//! overdrafts are refused.

use serde_json::json;

use crate::interleaving::schedule::{self, Failure, Lesson, Size, Variant};
use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "bank",
        title: "A bank account under a lock",
        chapter: Chapter::Threads,
        summary: "Three threads make random deposits and withdrawals on one account; a lock keeps every check-then-update whole, so it never goes negative.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::int("balance", "Starting balance", 100, 0, 1_000_000),
            Param::int("threads", "Threads", 3, 1, 16),
            Param::int("transactions", "Transactions per thread", 5, 1, 100),
            Param::int("min_amount", "Smallest amount", 10, 1, 1_000_000),
            Param::int("max_amount", "Largest amount", 100, 1, 1_000_000),
            Param::int("seed", "Random seed", 42, 0, 1_000_000_000).help("The same seed gives the same transactions."),
            Param::int("think_ms", "Longest pause before a transaction (ms)", 200, 0, 2000),
            Param::int("hold_ms", "Time inside the lock (ms)", 20, 0, 1000)
                .help("How long a transaction keeps the account locked; others wait meanwhile."),
        ],
        presets: vec![
            Preset { id: "rich", label: "Rich account (no refusals)", values: json!({"balance": 10_000}) },
            Preset { id: "busy", label: "8 threads x 20", values: json!({"threads": 8, "transactions": 20, "think_ms": 50, "hold_ms": 5}) },
        ],
        modes: vec![
            Mode::new("locked", "Threads sharing one account under a lock", Model::Threads),
            Mode::new("scheduled-locked", "The same transactions under the lock, on the scheduler (no shared memory)", Model::Scheduled),
            Mode::new("scheduled-unlocked", "The same transactions without the lock, on the scheduler (no shared memory)", Model::Scheduled),
        ],
        code: crate::topic_code!("bank/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_bank(run, params.read())),
        needs: |p| Needs::threads(p.read::<BankParams>().threads),
        reads: reads::<BankParams>,
    }
}

/// "You schedule" and "Find the bug": `transact` on the scheduler, each thread withdrawing 60
/// from a balance of 100 that covers one withdrawal.
pub fn lesson() -> Lesson {
    Lesson {
        goal: "Let two withdrawals of 60 through on a balance of 100: one of them must vanish.",
        failure: Failure::LostUpdate,
        shared: "balance",
        update: ("transaction", "transactions"),
        start: 100,
        locks: |_| vec!["the account's lock".to_string()],
        variants: vec![
            Variant { id: "unlocked", label: "Check and apply without the lock" },
            Variant { id: "locked", label: "Check and apply under the account's lock" },
        ],
        size: Size { threads: 2, rounds: 1 },
        body: schedule::body(|variant, size, _thread, steps| {
            let locked = variant == "locked";
            Box::pin(async move {
                for _ in 0..size.rounds {
                    transact(&steps, Kind::Withdraw, 60, locked, 0.0).await?;
                }
                Ok(())
            })
        }),
    }
}

fn check(p: &BankParams) -> Result<(), FieldError> {
    if p.min_amount > p.max_amount {
        return Err(FieldError::new("max_amount", "The largest amount must be at least the smallest"));
    }
    let per_thread = p.transactions as f64 * (p.think_ms + p.hold_ms);
    let locked = (p.threads * p.transactions) as f64 * p.hold_ms;
    if per_thread.max(locked) > 60_000.0 {
        return Err(FieldError::new(
            "transactions",
            "This would take over a minute; use fewer transactions or shorter pauses",
        ));
    }
    Ok(())
}

// CODE START
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use futures::executor::block_on;
use serde::Deserialize;

use crate::engines::threads;
use crate::interleaving::schedule::scheduled_mode;
use crate::interleaving::{Names, Recorder, SharedMemory, Steps, ThreadSteps};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BankParams {
    balance: i64,
    threads: usize,
    transactions: usize,
    min_amount: i64,
    max_amount: i64,
    seed: u64,
    think_ms: f64,
    hold_ms: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
enum Kind {
    Deposit,
    Withdraw,
}

/// One planned transaction. The seed decides all of them before any thread starts.
#[derive(Clone, Debug, serde::Serialize)]
struct Tx {
    thread: usize,
    n: usize,
    kind: Kind,
    amount: i64,
    think_ms: f64,
}

/// A line of the ledger: a transaction as it really happened.
#[derive(Clone, Debug)]
struct Entry {
    tx: Tx,
    accepted: bool,
    before: i64,
    after: i64,
    at: f64,
    /// Which time the account's lock was taken for it (0 without the lock): the ledger's order.
    turn: u64,
}

/// One transaction, written once for both engines: the check and the act on the balance, with
/// `hold_ms` of work in between, under the account's lock when `locked`. Returns the balance it
/// read and whether it was accepted.
async fn transact<S: Steps>(s: &S, kind: Kind, amount: i64, locked: bool, hold_ms: f64) -> RunResult<(i64, bool)> {
    if locked {
        s.lock(0).await?;
    }
    let before = s.read().await?;
    let accepted = kind == Kind::Deposit || amount <= before; // the check...
    s.pause(&format!("{} {amount}", describe_kind(kind)), hold_ms)?; // others wait meanwhile, if locked
    if accepted {
        let after = if kind == Kind::Deposit { before + amount } else { before - amount };
        s.write(after).await?; // ...and the act: without the lock, another thread may act in between
    }
    if locked {
        s.unlock(0).await?;
    }
    Ok((before, accepted))
}

fn plan(p: &BankParams) -> Vec<Vec<Tx>> {
    let mut rng = fastrand::Rng::with_seed(p.seed);
    let (min, max, think) = (p.min_amount, p.max_amount, p.think_ms);
    (1..=p.threads)
        .map(|thread| {
            (1..=p.transactions)
                .map(|n| Tx {
                    thread,
                    n,
                    kind: if rng.bool() { Kind::Deposit } else { Kind::Withdraw },
                    amount: rng.i64(min..=max),
                    think_ms: (rng.f64() * think).round(),
                })
                .collect()
        })
        .collect()
}

fn names(mode: &str) -> Names<'_> {
    Names { mode, shared: "balance", update: ("transaction", "transactions"), locks: &[] }
}

async fn run_bank(run: Run, p: BankParams) -> RunResult<()> {
    let start = p.balance;
    let plan = plan(&p);
    let lock = ["the account's lock".to_string()];
    let memory = Arc::new(SharedMemory::new(start, &lock, plan.len()));
    let ledger = Arc::new(Mutex::new(Vec::new()));
    run.sample("balance", "balance", ("time (ms)", "balance"), (0.0, start as f64));

    let recorder = Recorder::new(true, plan.len());
    let done = run.measure("locked", async {
        let mut handles = Vec::new();
        for txs in plan.clone() {
            let (run, memory, ledger, hold) = (run.clone(), memory.clone(), ledger.clone(), p.hold_ms);
            let me = txs[0].thread;
            let lane = format!("thread {me}");
            let mut track = recorder.track(&run, &lane, me);
            handles.push(threads::spawn(lane.clone(), move || {
                let steps = ThreadSteps::new(&run, &lane, me - 1, &memory, &mut track);
                customer(&run, &lane, &steps, txs, hold, &ledger)
            })?);
        }
        for outcome in threads::join_all(handles).await? {
            outcome?;
        }
        Ok(())
    });
    if done.await?.is_some() {
        run.stepper(recorder.finish(&Names { locks: &lock, ..names("locked") }));
        let mut ledger = std::mem::take(&mut *ledger.lock().unwrap());
        ledger.sort_by_key(|e| e.turn);
        check_books(&run, "locked", start, memory.value(), &ledger, &plan, true);
        show_ledger(&run, &ledger);
    }

    // The same transactions on the scheduler engine, where threads cannot run: under the lock
    // the books balance; without it, check and act come apart and whole transactions vanish.
    for (mode, locked) in [("scheduled-locked", true), ("scheduled-unlocked", false)] {
        let ledger = Rc::new(RefCell::new(Vec::new()));
        let lesson = planned(&plan, start, ledger.clone());
        let size = Size { threads: plan.len(), rounds: p.transactions };
        let variant = if locked { "locked" } else { "unlocked" };
        let Some((machine, steps)) = scheduled_mode(&run, mode, &lesson, variant, size, true).await? else { continue };
        let ledger = ledger.take();
        let final_balance = machine.value();
        if locked {
            check_books(&run, mode, start, final_balance, &ledger, &plan, false);
            run.verify(steps.findings.is_empty(), format!("{mode}: no transaction vanished"));
        } else {
            let (deposits, withdrawn) = accepted_sums(&ledger);
            let off = start + deposits - withdrawn - final_balance;
            run.result(mode, format!("final balance {final_balance}; the ledger says {}", start + deposits - withdrawn));
            run.verify(
                off == machine.erased(),
                format!("{mode}: the books are off by {off}, exactly what the writes over balances their threads had not read erased ({} such writes)", steps.findings.len()),
            );
        }
        run.value(mode, serde_json::json!({"final": final_balance, "vanished": steps.findings.len()}));
    }
    Ok(())
}

/// A lesson whose thread k makes the planned transactions of thread k+1, writing its ledger.
fn planned(plan: &[Vec<Tx>], start: i64, ledger: Rc<RefCell<Vec<Entry>>>) -> Lesson {
    let plan = plan.to_vec();
    Lesson {
        start,
        body: schedule::body(move |variant, _size, me, steps| {
            let (txs, ledger, locked) = (plan[me].clone(), ledger.clone(), variant == "locked");
            Box::pin(async move {
                for tx in txs {
                    let (before, accepted) = transact(&steps, tx.kind, tx.amount, locked, 0.0).await?;
                    let after = balance_after(&tx, before, accepted);
                    ledger.borrow_mut().push(Entry { tx, accepted, before, after, at: 0.0, turn: 0 });
                }
                Ok(())
            })
        }),
        ..lesson()
    }
}

fn balance_after(tx: &Tx, before: i64, accepted: bool) -> i64 {
    match (accepted, tx.kind) {
        (false, _) => before,
        (true, Kind::Deposit) => before + tx.amount,
        (true, Kind::Withdraw) => before - tx.amount,
    }
}

/// One customer: its transactions one by one, each a pause to think, then `transact` under the lock.
fn customer(run: &Run, lane: &str, steps: &ThreadSteps, txs: Vec<Tx>, hold_ms: f64, ledger: &Mutex<Vec<Entry>>) -> RunResult<()> {
    for tx in txs {
        run.timed(lane, "think", SpanKind::Io, || threads::sleep(run, tx.think_ms))?;
        // The steps of real threads complete at once: block_on just runs the body through.
        let (before, accepted) = block_on(transact(steps, tx.kind, tx.amount, true, hold_ms))?;
        let (at, after) = (run.now(), balance_after(&tx, before, accepted));
        let turn = steps.turn();
        run.log(lane, format!("{} {}{}: {before} -> {after}", describe_kind(tx.kind), tx.amount, if accepted { "" } else { " refused" }));
        run.sample("balance", "balance", ("time (ms)", "balance"), (at, after as f64));
        ledger.lock().unwrap().push(Entry { tx, accepted, before, after, at, turn });
    }
    Ok(())
}

fn accepted_sums(ledger: &[Entry]) -> (i64, i64) {
    let sum = |kind: Kind| -> i64 { ledger.iter().filter(|e| e.tx.kind == kind && e.accepted).map(|e| e.tx.amount).sum() };
    (sum(Kind::Deposit), sum(Kind::Withdraw))
}

/// Checks the books from the ledger (in lock order when `ordered`).
fn check_books(run: &Run, mode: &str, start: i64, balance: i64, ledger: &[Entry], plan: &[Vec<Tx>], ordered: bool) {
    let (deposits, withdrawn) = accepted_sums(ledger);
    let refused: i64 = ledger.iter().filter(|e| !e.accepted).map(|e| e.tx.amount).sum();
    let refusals = ledger.iter().filter(|e| !e.accepted).count();
    let lowest = ledger.iter().map(|e| e.after).min().unwrap_or(start).min(start);
    let mut executed: Vec<String> = ledger.iter().map(|e| describe(&e.tx)).collect();
    let mut planned: Vec<String> = plan.iter().flatten().map(describe).collect();
    executed.sort();
    planned.sort();
    let prefix = if mode == "locked" { String::new() } else { format!("{mode}: ") };
    run.verify(
        balance == start + deposits - withdrawn,
        format!("{prefix}final {balance} = start {start} + deposits {deposits} - accepted withdrawals {withdrawn}"),
    );
    run.verify(lowest >= 0, format!("{prefix}the balance never went negative (lowest: {lowest})"));
    run.verify(
        ledger.iter().filter(|e| !e.accepted).all(|e| e.tx.amount > e.before),
        format!("{prefix}{refusals} refused withdrawals were each larger than the balance at that moment"),
    );
    if ordered {
        let chained =
            ledger.windows(2).all(|w| w[0].after == w[1].before) && ledger.first().is_none_or(|e| e.before == start);
        run.verify(chained, "each transaction started from the balance the previous one left: no two overlapped");
    }
    run.verify(executed == planned, format!("{prefix}all {} planned transactions ran exactly once", planned.len()));
    let refusals_line = format!("overdrafts refused: {refusals} (worth {refused})");
    if mode == "locked" {
        run.result(mode, format!("final balance {balance}"));
        run.note(mode, refusals_line);
    } else {
        // The note says which engine ran.
        run.result(mode, format!("final balance {balance}; {refusals_line}"));
    }
    if mode == "locked" {
        run.value("final", balance);
        run.value("deposits", deposits);
        run.value("withdrawn", withdrawn);
        run.value("refusals", refusals);
        run.value("lowest", lowest);
        run.value("planned", planned);
        run.value("executed", executed);
    }
}

fn show_ledger(run: &Run, ledger: &[Entry]) {
    let rows = ledger
        .iter()
        .enumerate()
        .map(|(i, e)| {
            vec![
                (i + 1).to_string(),
                format!("thread {}", e.tx.thread),
                format!("{} {}", describe_kind(e.tx.kind), e.tx.amount),
                if e.accepted { "ok".into() } else { "refused: overdraft".into() },
                e.before.to_string(),
                e.after.to_string(),
                format!("{:.0}", e.at),
            ]
        })
        .collect();
    run.table(
        "Ledger, in the order the lock was taken",
        &["#", "thread", "transaction", "outcome", "before", "after", "at ms"],
        rows,
    );
}

fn describe_kind(kind: Kind) -> &'static str {
    match kind {
        Kind::Deposit => "deposit",
        Kind::Withdraw => "withdraw",
    }
}

fn describe(tx: &Tx) -> String {
    format!("thread {} #{}: {} {}", tx.thread, tx.n, describe_kind(tx.kind), tx.amount)
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        output: |out, _| {
            expect_eq("transactions", out.lines().filter(|l| l.starts_with("thread ")).count(), 15)?;
            after(out, "final ").map(|_| ())
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{Report, RunStatus};
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    fn int(report: &Report, key: &str) -> i64 {
        report.values[key].as_i64().unwrap()
    }

    #[test]
    fn the_books_balance_and_never_go_negative() {
        let params = json!({"balance": 50, "threads": 3, "transactions": 8, "seed": 7, "think_ms": 10, "hold_ms": 1});
        let report = run_native("bank", params, true);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(int(&report, "final"), 50 + int(&report, "deposits") - int(&report, "withdrawn"));
        assert!(int(&report, "lowest") >= 0);
        // Recompute from the ledger table as shown: every row's balance is >= 0, and the
        // accepted amounts add up to the final balance.
        let ledger = &report.tables[0];
        assert_eq!(ledger.rows.len(), 24);
        let mut balance = 50;
        for row in &ledger.rows {
            let (kind, amount) = row[2].split_once(' ').unwrap();
            let amount: i64 = amount.parse().unwrap();
            assert_eq!(row[4].parse::<i64>().unwrap(), balance);
            if row[3] == "ok" {
                balance += if kind == "deposit" { amount } else { -amount };
            } else {
                assert!(kind == "withdraw" && amount > balance);
            }
            assert!(balance >= 0);
            assert_eq!(row[5].parse::<i64>().unwrap(), balance);
        }
        assert_eq!(balance, int(&report, "final"));
        // Every transaction's steps are recorded under the lock, and none is lost.
        let stepper = &report.steppers[0];
        assert_eq!(stepper.steps.iter().filter(|s| s.op == crate::interleaving::Op::LockAcquire).count(), 24);
        assert!(stepper.findings.is_empty());
        assert_eq!(stepper.recorded, stepper.happened);
    }

    #[test]
    fn the_same_seed_gives_the_same_transactions() {
        let params = json!({"seed": 123, "think_ms": 5, "hold_ms": 1});
        let (a, b) = (run_native("bank", params.clone(), true), run_native("bank", params, true));
        assert_eq!(a.values["planned"], b.values["planned"]);
        assert_eq!(a.values["executed"], b.values["executed"]);
        assert_eq!(a.values["executed"], a.values["planned"]);
        let c = run_native("bank", json!({"seed": 124, "think_ms": 5, "hold_ms": 1}), true);
        assert_ne!(a.values["planned"], c.values["planned"]);
    }

    #[test]
    fn amounts_must_make_sense() {
        let errors = rejected_native("bank", json!({"min_amount": 500, "max_amount": 100}));
        assert_eq!(errors[0].field, "max_amount");
    }

    #[test]
    fn on_the_scheduler_the_lock_keeps_the_books_and_without_it_they_are_off_by_what_vanished() {
        let params = json!({"balance": 100, "threads": 3, "transactions": 6, "seed": 5, "think_ms": 0, "hold_ms": 0});
        let report = run_native("bank", params, true);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        let locked = report.checks.iter().filter(|c| c.text.starts_with("scheduled-locked: ")).count();
        assert_eq!(locked, 5, "the books, the lowest balance, the refusals, every transaction once, none vanished");
        assert!(report.checks.iter().any(|c| c.text.starts_with("scheduled-unlocked: the books are off by")));
        assert_eq!(report.values["scheduled-locked"]["vanished"], 0);
        for mode in ["scheduled-locked", "scheduled-unlocked"] {
            let stepper = report.steppers.iter().find(|s| s.mode == mode).unwrap();
            assert_eq!(stepper.clock, crate::interleaving::Clock::Step);
        }
        assert_eq!(report.steppers[0].clock, crate::interleaving::Clock::Ms);
        // Over a few seeds, the unlocked version loses a transaction at least once.
        let vanished = (0..5).any(|seed| {
            let p = json!({"balance": 100, "threads": 3, "transactions": 6, "seed": seed, "think_ms": 0, "hold_ms": 0});
            run_native("bank", p, true).values["scheduled-unlocked"]["vanished"].as_u64().unwrap() > 0
        });
        assert!(vanished);
    }
}
