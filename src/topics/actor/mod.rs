//! actor: actors on isolated workers, each owning its state and a mailbox, talking only by messages.

use serde_json::json;

use crate::params::{FieldError, Param};
use crate::topic::{reads, Chapter, Mode, Model, Needs, Preset, Topic};

pub fn topic() -> Topic {
    Topic {
        id: "actor",
        title: "Actors: state behind a mailbox",
        chapter: Chapter::Patterns,
        summary: "A printer actor and a bank-account actor on isolated workers: messages queue in a mailbox, one is handled at a time, no lock anywhere; stop() with a flag loses messages, a poison pill loses none.",
        explanation: crate::prose!(include_str!("explanation.md").trim_ascii_end()),
        params: vec![
            Param::float("time_scale", "Time scale", 0.6, 0.01, 4.0, 0.01)
                .help("Multiplies every duration (1 = the original 0.5 s per print)."),
            Param::int("senders", "Bank senders", 4, 1, 16).help("Tasks sending deposits and withdrawals at once."),
            Param::int("operations", "Operations per sender", 8, 1, 100),
            Param::int("handle_ms", "Bank handling time (ms)", 30, 0, 1000)
                .help("How long the bank actor takes per message (times the time scale)."),
            Param::int("balance", "Opening balance", 100, 0, 1_000_000),
            Param::int("seed", "Random seed", 0, 0, 1_000_000).help("0 draws new amounts every run."),
        ],
        presets: vec![
            Preset { id: "original", label: "Original timing (0.5 s per print)", values: json!({"time_scale": 1.0}) },
            Preset { id: "busy", label: "Busy bank (8 senders x 20)", values: json!({"senders": 8, "operations": 20, "time_scale": 0.3}) },
        ],
        modes: vec![
            Mode::new("stop-flag", "Printer, stop() sets a flag (original)", Model::Workers),
            Mode::new("poison-pill", "Printer, stopped by a poison pill", Model::Workers),
            Mode::new("bank", "Bank account actor, several senders", Model::Workers),
        ],
        code: crate::topic_code!("actor/mod.rs"),
        python: crate::prose!(include_str!("program.py")),
        check: |p| check(&p.read()),
        run: |run, params| Box::pin(run_actor(run, params.read())),
        needs: |_| Needs::workers(1),
        reads: reads::<ActorParams>,
    }
}

fn check(p: &ActorParams) -> Result<(), FieldError> {
    let seconds = p.time_scale * (2.0 + (p.senders * p.operations) as f64 * p.handle_ms / 1000.0);
    if seconds > 60.0 {
        return Err(FieldError::new(
            "operations",
            format!("This would take about {seconds:.0} s; keep senders x operations x handling time x scale under 60 s"),
        ));
    }
    Ok(())
}

// CODE START
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use serde::Deserialize;

use crate::engines::tasks;
use crate::engines::workers::{instance_id, Job, Pool};
use crate::report::SpanKind;
use crate::run::{Run, RunError, RunResult};

/// The parameters from the form, already checked against their limits.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorParams {
    time_scale: f64,
    senders: usize,
    operations: usize,
    handle_ms: f64,
    balance: i64,
    seed: u64,
}

/// A message as it travels to an actor's worker.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub enum Message {
    /// Printer: print this text.
    Print(String),
    /// Bank: open the account with this balance (resets the worker's state).
    Open(i64),
    Deposit(i64),
    Withdraw(i64),
    Balance,
}

/// An actor's answer: which worker (which instance) handled it, and what came of it.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct Reply {
    pub worker_id: u32,
    pub accepted: bool,
    /// The printer's count of prints so far, or the bank's balance after the message.
    pub state: i64,
    pub text: String,
}

thread_local! {
    // The actors' state. It lives in the worker's own instance: the page cannot reach it, and
    // only the one message being handled touches it. No lock.
    static PRINTED: Cell<i64> = const { Cell::new(0) };
    static BALANCE: Cell<i64> = const { Cell::new(0) };
}

/// What an actor's worker does with one message from its mailbox.
pub static HANDLE: Job<Message, Reply> = Job {
    name: "actor/handle",
    run: |message| {
        let reply = |accepted, state, text: String| Reply { worker_id: instance_id(), accepted, state, text };
        Ok(match message {
            Message::Print(text) => {
                let printed = PRINTED.with(|p| p.get() + 1);
                PRINTED.with(|p| p.set(printed));
                reply(true, printed, format!("Printing: {text}"))
            }
            Message::Open(balance) => {
                BALANCE.with(|b| b.set(balance));
                PRINTED.with(|p| p.set(0));
                reply(true, balance, format!("opened with {balance}"))
            }
            Message::Deposit(amount) => {
                let balance = BALANCE.with(|b| b.get()) + amount;
                BALANCE.with(|b| b.set(balance));
                reply(true, balance, format!("deposited {amount}"))
            }
            Message::Withdraw(amount) => {
                let balance = BALANCE.with(|b| b.get());
                if amount > balance {
                    reply(false, balance, format!("refused to withdraw {amount}"))
                } else {
                    BALANCE.with(|b| b.set(balance - amount));
                    reply(true, balance - amount, format!("withdrew {amount}"))
                }
            }
            Message::Balance => reply(true, BALANCE.with(|b| b.get()), "balance".into()),
        })
    },
    warm_up: || Message::Balance,
};

/// What waits in a mailbox: a message (with who sent it and when), or the poison pill.
enum Envelope {
    Letter { message: Message, from: String, sent_at: f64, reply: Option<futures::channel::oneshot::Sender<Reply>> },
    PoisonPill,
}

/// An actor as the page sees it: a mailbox, a running flag, and the worker that holds its state.
struct Actor<'a> {
    name: &'static str,
    run: &'a Run,
    pool: &'a Pool,
    mailbox: RefCell<VecDeque<Envelope>>,
    running: Cell<bool>,
    handle_ms: f64,
    delivered: Cell<usize>,
}

impl<'a> Actor<'a> {
    fn new(name: &'static str, run: &'a Run, pool: &'a Pool, handle_ms: f64) -> Actor<'a> {
        let (mailbox, running, delivered) = (RefCell::new(VecDeque::new()), Cell::new(true), Cell::new(0));
        Actor { name, run, pool, mailbox, running, handle_ms, delivered }
    }

    fn plot(&self) {
        let depth = self.mailbox.borrow().len() as f64;
        self.run.sample("mailbox", &format!("{} mailbox", self.name), ("time (ms)", "messages waiting"), (self.run.now(), depth));
    }

    /// Tell: put a message in the mailbox and go on.
    fn send(&self, from: &str, message: Message) {
        let sent_at = self.run.now();
        self.mailbox.borrow_mut().push_back(Envelope::Letter { message, from: from.into(), sent_at, reply: None });
        self.plot();
    }

    /// Ask: put a message in the mailbox and wait for the actor's answer.
    async fn ask(&self, from: &str, message: Message) -> RunResult<Reply> {
        let (reply, answer) = futures::channel::oneshot::channel();
        let sent_at = self.run.now();
        self.mailbox.borrow_mut().push_back(Envelope::Letter { message, from: from.into(), sent_at, reply: Some(reply) });
        self.plot();
        answer.await.map_err(|_| RunError::Failed(format!("{} stopped before answering {from}", self.name)))
    }

    /// stop() as in the original: the flag is seen before the next message is taken.
    fn stop_flag(&self) {
        self.running.set(false);
    }

    fn send_poison_pill(&self) {
        self.mailbox.borrow_mut().push_back(Envelope::PoisonPill);
        self.plot();
    }

    /// The actor's loop: while running, take the next message (waiting a little when the
    /// mailbox is empty, like queue.get(timeout=...)), and have the worker handle it.
    async fn run_loop(&self) -> RunResult<()> {
        let lane = Pool::lane(0);
        while self.running.get() {
            let next = self.mailbox.borrow_mut().pop_front();
            let Some(envelope) = next else {
                tasks::sleep(self.run, 5.0).await?;
                continue;
            };
            self.plot();
            let Envelope::Letter { message, from, sent_at, reply } = envelope else {
                self.run.log(&lane, format!("{}: poison pill, leaving", self.name));
                return Ok(());
            };
            let taken = self.run.now();
            // One lane per sender (each waits for one answer at a time); main's tells get one each.
            let waiting = match &message {
                Message::Print(text) => format!("{from}: {text} (waiting)"),
                _ => format!("{from} (waiting)"),
            };
            self.run.span(waiting, format!("{message:?} in the mailbox"), SpanKind::Wait, sent_at, taken);
            let label = format!("{message:?}");
            // Printing and banking take time; opening the account and reading it do not.
            let pause = if matches!(message, Message::Open(_) | Message::Balance) { 0.0 } else { self.handle_ms };
            let done = self.pool.run_job_after(self.run, 0, pause, &HANDLE, &message, &label).await?;
            let answer = done.output?;
            self.delivered.set(self.delivered.get() + 1);
            self.run.log(&lane, format!("{} (#{}): {}", self.name, answer.worker_id, answer.text));
            if let Some(reply) = reply {
                let _ = reply.send(answer);
            }
        }
        self.run.log(&lane, format!("{}: running is False, leaving", self.name));
        Ok(())
    }

    fn left_behind(&self) -> usize {
        self.mailbox.borrow().iter().filter(|e| matches!(e, Envelope::Letter { .. })).count()
    }
}

async fn run_actor(run: Run, p: ActorParams) -> RunResult<()> {
    let scale = p.time_scale;
    for (mode, pill) in [("stop-flag", false), ("poison-pill", true)] {
        let printer = run.measure(mode, async {
            let pool = Pool::start(&run, 1).await?;
            let printer = Actor::new(if pill { "printer (pill)" } else { "printer (flag)" }, &run, &pool, 500.0 * scale);
            let main = async {
                printer.ask("main", Message::Open(0)).await?;
                for i in 1..=3 {
                    printer.send("main", Message::Print(format!("message {i}")));
                }
                // The original calls stop() right after sending.
                tasks::sleep(&run, 20.0).await?;
                if pill {
                    printer.send_poison_pill();
                } else {
                    printer.stop_flag();
                }
                Ok::<(), RunError>(())
            };
            futures::try_join!(printer.run_loop(), main)?;
            Ok((printer.delivered.get() - 1, printer.left_behind()))
        });
        if let Some((printed, lost)) = printer.await? {
            run.result(mode, format!("{printed} of 3 printed, {lost} lost"));
            run.value(&format!("{mode}_printed"), printed);
            run.value(&format!("{mode}_lost"), lost);
            if pill {
                run.verify(printed == 3 && lost == 0, format!("poison pill: all 3 messages delivered ({printed}), none lost"));
            } else {
                run.verify(
                    printed + lost == 3 && lost > 0,
                    format!("stop() flag: {printed} delivered and {lost} dropped from the mailbox (the original loses messages 2 and 3)"),
                );
            }
        }
    }

    let (senders, operations, opening) = (p.senders, p.operations, p.balance);
    let seed = match p.seed {
        0 => crate::clock::now_ms() as u64,
        s => s,
    };
    let bank = run.measure("bank", async {
        let pool = Pool::start(&run, 1).await?;
        let account = Actor::new("bank account", &run, &pool, p.handle_ms * scale);
        let accepted = RefCell::new(Vec::<i64>::new());
        let (refused, answered, max_depth) = (Cell::new(0), Cell::new(0), Cell::new(0));
        let sender = |s: usize| {
            let (run, account, accepted, refused, answered, max_depth) =
                (&run, &account, &accepted, &refused, &answered, &max_depth);
            async move {
                let mut rng = fastrand::Rng::with_seed(seed + s as u64);
                let lane = format!("sender {}", s + 1);
                for _ in 0..operations {
                    let amount = rng.i64(1..=50);
                    let message = if rng.bool() { Message::Deposit(amount) } else { Message::Withdraw(amount) };
                    max_depth.set(max_depth.get().max(account.mailbox.borrow().len() + 1));
                    let reply = account.ask(&lane, message.clone()).await?;
                    answered.set(answered.get() + 1);
                    match (reply.accepted, message) {
                        (true, Message::Deposit(a)) => accepted.borrow_mut().push(a),
                        (true, Message::Withdraw(a)) => accepted.borrow_mut().push(-a),
                        _ => refused.set(refused.get() + 1),
                    }
                    if reply.state < 0 {
                        return Err(RunError::Failed(format!("the balance went negative: {}", reply.state)));
                    }
                    tasks::sleep(run, rng.f64() * 30.0 * scale).await?;
                }
                Ok::<(), RunError>(())
            }
        };
        let clients = async {
            account.ask("main", Message::Open(opening)).await?;
            futures::future::try_join_all((0..senders).map(sender)).await?;
            let balance = account.ask("main", Message::Balance).await?.state;
            account.send_poison_pill();
            Ok::<i64, RunError>(balance)
        };
        let ((), balance) = futures::try_join!(account.run_loop(), clients)?;
        let accepted = accepted.into_inner();
        Ok((balance, accepted, refused.get(), answered.get(), account.delivered.get(), max_depth.get()))
    });
    if let Some((balance, accepted, refused, answered, delivered, max_depth)) = bank.await? {
        let sent = senders * operations;
        let expected = opening + accepted.iter().sum::<i64>();
        run.result("bank", format!("balance {balance} after {} operations ({refused} refused)", sent));
        run.note("bank", format!("at most {max_depth} messages were waiting in the mailbox at once"));
        run.verify(answered == sent, format!("every sender got an answer to each of its {sent} messages"));
        run.verify(delivered == sent + 2, format!("the actor handled {delivered} messages: {sent} operations, the opening and the final balance query"));
        run.verify(
            balance == expected,
            format!("final balance {balance} = opening {opening} + accepted operations ({}), with no lock", expected - opening),
        );
        run.value("balance", balance);
        run.value("expected_balance", expected);
        run.value("refused", refused);
        run.value("bank_delivered", delivered);
        run.value("max_depth", max_depth);
    }
    Ok(())
}
// CODE END

/// What program.py must print, beside a Rust run of this topic (see tests/python/programs.rs).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) const PROGRAM_CHECK: crate::python_programs::ProgramCheck = {
    use crate::python_programs::*;
    ProgramCheck {
        rust: Some(|| serde_json::json!({"time_scale": 0.1, "handle_ms": 5})),
        output: |out, r| {
            for mode in ["stop-flag", "poison-pill"] {
                expect_eq(
                    &format!("{mode}: printed"),
                    after(out, &format!("{mode} printed "))?,
                    value(r, &format!("{mode}_printed")),
                )?;
            }
            at_least("final balance", count_lines(out, "final balance"), 1)
        },
        ..ProgramCheck::AS_WRITTEN
    }
};

#[cfg(test)]
mod tests {
    use crate::report::{RunStatus, SpanKind};
    use crate::runner::testing::{rejected_native, run_native};
    use serde_json::json;

    #[test]
    fn flag_loses_two_pill_loses_none_bank_balances() {
        let report = run_native("actor", json!({"time_scale": 0.1, "seed": 5}), false);
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        assert!(report.checks.iter().all(|c| c.ok), "{:?}", report.checks);
        assert_eq!(report.values["stop-flag_printed"], 1);
        assert_eq!(report.values["stop-flag_lost"], 2);
        assert_eq!(report.values["poison-pill_printed"], 3);
        assert_eq!(report.values["poison-pill_lost"], 0);
        assert_eq!(report.values["balance"], report.values["expected_balance"]);
        assert_eq!(report.values["bank_delivered"], 4 * 8 + 2);
        // The mailbox was plotted and messages are drawn waiting in it.
        assert!(report.series.iter().any(|s| s.name == "bank account mailbox" && s.points.len() > 10));
        assert!(report.spans.iter().any(|s| s.lane == "sender 1 (waiting)" && s.kind == SpanKind::Wait));
        // One message at a time: the actor's handling spans never overlap.
        let mut handled: Vec<_> =
            report.spans.iter().filter(|s| s.mode == "bank" && s.lane == "worker 1" && s.kind == SpanKind::Run).collect();
        handled.sort_by(|a, b| a.start.total_cmp(&b.start));
        assert_eq!(handled.len(), 4 * 8 + 2);
        assert!(handled.windows(2).all(|w| w[0].end <= w[1].start + 0.01));
    }

    #[test]
    fn too_long_is_refused() {
        let errors = rejected_native("actor", json!({"senders": 16, "operations": 100, "handle_ms": 1000}));
        assert_eq!(errors[0].field, "operations");
    }
}
