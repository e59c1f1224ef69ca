//! bank: a few threads make random deposits and withdrawals on one account under a lock;
//! overdrafts are refused.

use serde_json::json;

use crate::interleaving::schedule::{Failure, Lesson, Size, Variant};
use crate::params::{FieldError, Param, Params};
use crate::topic::{Chapter, Mode, Model, Preset, Topic, Needs};

pub fn topic() -> Topic {
    Topic {
        id: "bank",
        title: "A bank account under a lock",
        chapter: Chapter::Threads,
        summary: "Three threads make random deposits and withdrawals on one account; a lock keeps every check-then-update whole, so it never goes negative.",
        explanation: crate::prose!("A withdrawal must check the balance and then take the money. If another thread could withdraw between the check and the update, both could pass the check and the account would go below zero. Holding a lock across the check and the update makes the pair indivisible: that is a critical section.\n\n\
Each thread here makes a few transactions, each a deposit or a withdrawal of a random amount, with a random pause before each one. A withdrawal larger than the current balance is refused. The seed fixes which transactions each thread makes; the order in which the threads get the lock still depends on timing, so which withdrawals get refused can change from run to run.\n\n\
The ledger lists every transaction in the order it really happened. The run checks the books: the final balance equals the start plus the deposits minus the accepted withdrawals, and the balance was never negative.\n\n\
Sources: the long tour (BankAccount with a lock and random transactions); Python docs: threading (Lock objects), random (Random with a seed)."),
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
        modes: vec![Mode::new("locked", "Threads sharing one account under a lock", Model::Threads)],
        code: crate::topic_code!("bank.rs"),
        python: crate::prose!(PYTHON),
        check,
        run: |run, params| Box::pin(run_bank(run, params)),
        needs: |p| Needs::threads(p.count("threads")),
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
        body: |variant, size, _thread, steps| {
            let locked = variant == "locked";
            Box::pin(async move {
                for _ in 0..size.rounds {
                    transact(&steps, Kind::Withdraw, 60, locked).await?;
                }
                Ok(())
            })
        },
    }
}

const PYTHON: &str = r#"import random, threading, time

BALANCE = 100             # starting balance (the tutorial started at 1000)
THREADS = 3
TRANSACTIONS = 5          # per thread
MIN_AMOUNT, MAX_AMOUNT = 10, 100
SEED = 42
THINK_MS = 200            # longest pause before a transaction
HOLD_MS = 20              # time inside the lock

balance = BALANCE
lock = threading.Lock()
ledger = []

def customer(name, rng):
    global balance
    for _ in range(TRANSACTIONS):
        kind, amount = rng.choice(["deposit", "withdraw"]), rng.randint(MIN_AMOUNT, MAX_AMOUNT)
        time.sleep(rng.random() * THINK_MS / 1000)
        with lock:                             # check and update as one step
            time.sleep(HOLD_MS / 1000)
            if kind == "deposit":
                balance += amount; ok = True
            elif amount <= balance:
                balance -= amount; ok = True
            else:
                ok = False                     # overdraft refused
            ledger.append((name, kind, amount, ok, balance))

if __name__ == "__main__":
    # Python's generator is not the page's: the same seed draws other transactions than on the page
    rngs = [random.Random(SEED + i) for i in range(THREADS)]
    threads = [threading.Thread(target=customer, args=(f"thread {i+1}", r)) for i, r in enumerate(rngs)]
    for t in threads: t.start()
    for t in threads: t.join()
    for entry in ledger:
        print(*entry)
    deposits = sum(a for _, k, a, ok, _ in ledger if k == "deposit")
    taken = sum(a for _, k, a, ok, _ in ledger if k == "withdraw" and ok)
    assert balance == BALANCE + deposits - taken and all(b >= 0 for *_, b in ledger)
    print("final", balance, "=", BALANCE, "+", deposits, "-", taken)
"#;

fn check(p: &Params) -> Result<(), FieldError> {
    if p.int("min_amount") > p.int("max_amount") {
        return Err(FieldError::new("max_amount", "The largest amount must be at least the smallest"));
    }
    let per_thread = p.int("transactions") * (p.int("think_ms") + p.int("hold_ms"));
    let locked = p.int("threads") * p.int("transactions") * p.int("hold_ms");
    if per_thread.max(locked) > 60_000 {
        return Err(FieldError::new(
            "transactions",
            "This would take over a minute; use fewer transactions or shorter pauses",
        ));
    }
    Ok(())
}

// CODE START
use std::sync::{Arc, Mutex};

use crate::engines::threads;
use crate::interleaving::{Names, Op, Recorder, Steps, Track};
use crate::report::SpanKind;
use crate::run::{Run, RunResult};

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

/// A line of the ledger: a transaction as it really happened, in lock order.
#[derive(Clone, Debug)]
struct Entry {
    tx: Tx,
    accepted: bool,
    before: i64,
    after: i64,
    at: f64,
}

struct Account {
    balance: i64,
    ledger: Vec<Entry>,
}

fn plan(p: &Params) -> Vec<Vec<Tx>> {
    let mut rng = fastrand::Rng::with_seed(p.int("seed") as u64);
    let (min, max, think) = (p.int("min_amount"), p.int("max_amount"), p.float("think_ms"));
    (1..=p.count("threads"))
        .map(|thread| {
            (1..=p.count("transactions"))
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

async fn run_bank(run: Run, p: Params) -> RunResult<()> {
    let start = p.int("balance");
    let plan = plan(&p);
    let account = Arc::new(Mutex::new(Account { balance: start, ledger: Vec::new() }));
    run.sample("balance", "balance", ("time (ms)", "balance"), (0.0, start as f64));

    let recorder = Recorder::new(true, plan.len());
    let done = run.measure("locked", async {
        let mut handles = Vec::new();
        for txs in plan.clone() {
            let (run, account, hold) = (run.clone(), account.clone(), p.float("hold_ms"));
            let lane = format!("thread {}", txs[0].thread);
            let mut track = recorder.track(&run, &lane, txs[0].thread);
            handles.push(threads::spawn(lane.clone(), move || customer(&run, &lane, &account, txs, hold, &mut track))?);
        }
        for outcome in threads::join_all(handles).await? {
            outcome?;
        }
        Ok(())
    });
    if done.await?.is_none() {
        return Ok(());
    }
    let locks = ["the account's lock".to_string()];
    run.stepper(recorder.finish(&Names { mode: "locked", shared: "balance", update: ("transaction", "transactions"), locks: &locks }));

    // Check the books from the ledger.
    let account = account.lock().unwrap();
    let ledger = &account.ledger;
    let sum = |kind: Kind, accepted: bool| -> i64 {
        ledger.iter().filter(|e| e.tx.kind == kind && e.accepted == accepted).map(|e| e.tx.amount).sum()
    };
    let (deposits, withdrawn, refused) =
        (sum(Kind::Deposit, true), sum(Kind::Withdraw, true), sum(Kind::Withdraw, false));
    let refusals = ledger.iter().filter(|e| !e.accepted).count();
    let lowest = ledger.iter().map(|e| e.after).min().unwrap_or(start).min(start);
    let chained =
        ledger.windows(2).all(|w| w[0].after == w[1].before) && ledger.first().is_none_or(|e| e.before == start);
    let mut executed: Vec<String> = ledger.iter().map(|e| describe(&e.tx)).collect();
    let mut planned: Vec<String> = plan.iter().flatten().map(describe).collect();
    executed.sort();
    planned.sort();

    run.verify(
        account.balance == start + deposits - withdrawn,
        format!("final {} = start {start} + deposits {deposits} - accepted withdrawals {withdrawn}", account.balance),
    );
    run.verify(lowest >= 0, format!("the balance never went negative (lowest: {lowest})"));
    run.verify(
        ledger.iter().filter(|e| !e.accepted).all(|e| e.tx.amount > e.before),
        format!("{refusals} refused withdrawals were each larger than the balance at that moment"),
    );
    run.verify(chained, "each transaction started from the balance the previous one left: no two overlapped");
    run.verify(executed == planned, format!("all {} planned transactions ran exactly once", planned.len()));

    run.result("locked", format!("final balance {}", account.balance));
    run.note("locked", format!("overdrafts refused: {refusals} (worth {refused})"));
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
    run.value("final", account.balance);
    run.value("deposits", deposits);
    run.value("withdrawn", withdrawn);
    run.value("refusals", refusals);
    run.value("lowest", lowest);
    run.value("planned", planned);
    run.value("executed", executed);
    Ok(())
}

/// One transaction step by step, as the scheduler runs it: the check and the act on the
/// balance, under the account's lock when `locked`. Returns whether it was accepted.
async fn transact<S: Steps>(s: &S, kind: Kind, amount: i64, locked: bool) -> RunResult<bool> {
    if locked {
        s.lock(0).await?;
    }
    let before = s.read().await?;
    let accepted = kind == Kind::Deposit || amount <= before; // the check...
    if accepted {
        let after = if kind == Kind::Deposit { before + amount } else { before - amount };
        s.write(after).await?; // ...and the act: without the lock, another thread may act in between
    }
    if locked {
        s.unlock(0).await?;
    }
    Ok(accepted)
}

/// One customer: its transactions one by one, each checked and applied while holding the lock.
fn customer(run: &Run, lane: &str, account: &Mutex<Account>, txs: Vec<Tx>, hold_ms: f64, track: &mut Track) -> RunResult<()> {
    for tx in txs {
        run.timed(lane, "think", SpanKind::Io, || threads::sleep(run, tx.think_ms))?;
        let asked = run.now();
        track.lock(Op::LockWait, 0);
        let mut acct = account.lock().unwrap();
        track.lock(Op::LockAcquire, 0);
        let got = run.now();
        if got - asked > 0.05 {
            run.span(lane, "wait for the lock", SpanKind::Wait, asked, got);
        }
        let before = acct.balance;
        track.read(before);
        let accepted = match tx.kind {
            Kind::Deposit => true,
            Kind::Withdraw => tx.amount <= before, // the check...
        };
        if accepted {
            acct.balance += if tx.kind == Kind::Deposit { tx.amount } else { -tx.amount };
            // ...and the update
            track.write(acct.balance, before);
        }
        threads::sleep(run, hold_ms)?; // the work done while the account is locked
        let after = acct.balance;
        let at = run.now();
        let what = format!("{} {}{}", describe_kind(tx.kind), tx.amount, if accepted { "" } else { " refused" });
        run.log(lane, format!("{what}: {before} -> {after}"));
        run.span(lane, what, SpanKind::Run, got, at);
        run.sample("balance", "balance", ("time (ms)", "balance"), (at, after as f64));
        acct.ledger.push(Entry { tx, accepted, before, after, at });
        drop(acct);
        track.lock(Op::LockRelease, 0);
    }
    Ok(())
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
}
