//! The scheduler engine: a thread lesson's bodies (the same `async fn`s real threads run, see
//! `steps.rs`) as tasks on one deterministic single-threaded executor that moves exactly one
//! task by one shared step per choice. It needs no shared memory, so it runs in every browser.
//!
//! Three uses: "You schedule" (the page sends the choices so far, Rust replays them from
//! scratch and says what every thread would do next), "Find the bug" (every interleaving of a
//! small instance explored by replay, with state caching, counted exactly, and the shortest
//! failing one found breadth-first), and scheduled modes (a seeded random scheduler over a
//! topic's full instance, for pages without threads).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use super::{Clock, Names, Op, Recorder, Step, Stepper, Steps, TrackData};
use crate::run::RunResult;

/// A thread's body, ready to be polled by the scheduler.
pub type Body = LocalBoxFuture<'static, RunResult<()>>;

/// How big an instance is: threads, and rounds of the body per thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ScheduleSize"))]
pub struct Size {
    pub threads: usize,
    pub rounds: usize,
}

/// Interactive instances stay this small: every interleaving of them can be explored at once.
pub const MAX_THREADS: usize = 3;
pub const MAX_ROUNDS: usize = 2;

/// What going wrong means in a lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// A write over a value its thread had not read last: the updates in between are erased.
    LostUpdate,
    /// No thread can move while some have not finished.
    Deadlock,
}

impl Failure {
    /// "none loses an update" / "none deadlocks".
    fn verb(self) -> (&'static str, &'static str) {
        match self {
            Failure::LostUpdate => ("loses an update", "lose an update"),
            Failure::Deadlock => ("deadlocks", "deadlock"),
        }
    }
}

/// A version of the lesson's code: the broken one, or a fix.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Variant {
    pub id: &'static str,
    pub label: &'static str,
}

/// A topic's scheduled lesson: its goal, its names, its versions and its bodies.
pub struct Lesson {
    /// What the learner is asked to make happen, e.g. "Make a withdrawal vanish".
    pub goal: &'static str,
    pub failure: Failure,
    /// What the shared value is called ("balance"; empty when the lesson has locks only), and one
    /// update ("withdrawal", "withdrawals").
    pub shared: &'static str,
    pub update: (&'static str, &'static str),
    pub start: i64,
    pub locks: fn(Size) -> Vec<String>,
    pub variants: Vec<Variant>,
    pub size: Size,
    /// Thread `thread` (0-based) of `variant`, running on `steps` (see [`body`]).
    pub body: Rc<BodyFn>,
}

pub type BodyFn = dyn Fn(&str, Size, usize, Scheduled) -> Body;

/// A lesson's bodies: `make(variant, size, thread, steps)` starts thread `thread`'s.
pub fn body(make: impl Fn(&str, Size, usize, Scheduled) -> Body + 'static) -> Rc<BodyFn> {
    Rc::new(make)
}

/// What a thread will do when it next moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Next {
    Read,
    Write(i64),
    Add(i64),
    Lock(usize),
    TryLock(usize),
    Unlock(usize),
}

/// The shared state the scheduled threads see, and what they did.
struct World {
    value: i64,
    holder: Vec<Option<usize>>,
    next: Vec<Option<Next>>,
    done: Vec<bool>,
    /// The thread allowed to take its next step now.
    granted: Option<usize>,
    last_read: Vec<Option<i64>>,
    /// Every value each thread has read: with the shared state, all a body's future depends on.
    reads: Vec<Vec<i64>>,
    taken: Vec<u32>,
    steps: Vec<Step>,
    /// The first write that lost an update, and whether the last move did.
    first_lost: Option<usize>,
    lost_now: bool,
}

impl World {
    fn record(&mut self, me: usize, op: Op, value: i64, was: i64, read: Option<i64>) {
        let (thread, seq, t) = (me as u32 + 1, u64::from(self.taken[me]), self.steps.len() as f64);
        self.steps.push(Step { thread, seq, op, value, was, read, t });
        self.taken[me] += 1;
    }

    fn perform(&mut self, me: usize, next: Next) -> i64 {
        match next {
            Next::Read => {
                let seen = self.value;
                self.last_read[me] = Some(seen);
                self.reads[me].push(seen);
                self.record(me, Op::Read, seen, seen, None);
                seen
            }
            Next::Write(value) => {
                let (was, read) = (self.value, self.last_read[me]);
                self.lost_now = read.is_some_and(|r| r != was);
                if self.lost_now && self.first_lost.is_none() {
                    self.first_lost = Some(self.steps.len());
                }
                self.record(me, Op::Write, value, was, read);
                self.value = value;
                value
            }
            Next::Add(delta) => {
                let was = self.value;
                self.value = was + delta;
                self.reads[me].push(was);
                self.record(me, Op::Write, was + delta, was, Some(was));
                was
            }
            Next::Lock(l) => {
                self.record(me, Op::LockWait, l as i64, l as i64, None);
                self.record(me, Op::LockAcquire, l as i64, l as i64, None);
                self.holder[l] = Some(me);
                0
            }
            Next::TryLock(l) => {
                self.record(me, Op::LockWait, l as i64, l as i64, None);
                let got = self.holder[l].is_none();
                if got {
                    self.holder[l] = Some(me);
                }
                self.record(me, if got { Op::LockAcquire } else { Op::LockGiveUp }, l as i64, l as i64, None);
                // What the body does next depends on it, as on a value read.
                self.reads[me].push(i64::from(got));
                i64::from(got)
            }
            Next::Unlock(l) => {
                self.holder[l] = None;
                self.record(me, Op::LockRelease, l as i64, l as i64, None);
                0
            }
        }
    }
}

/// The steps of one scheduled thread: each waits until the scheduler picks this thread.
#[derive(Clone)]
pub struct Scheduled {
    world: Rc<RefCell<World>>,
    me: usize,
}

impl Scheduled {
    fn step(&self, want: Next) -> impl Future<Output = i64> + '_ {
        futures::future::poll_fn(move |_| {
            let mut w = self.world.borrow_mut();
            if w.granted == Some(self.me) {
                w.granted = None;
                w.next[self.me] = None;
                Poll::Ready(w.perform(self.me, want))
            } else {
                w.next[self.me] = Some(want);
                Poll::Pending
            }
        })
    }
}

impl Steps for Scheduled {
    async fn read(&self) -> RunResult<i64> {
        Ok(self.step(Next::Read).await)
    }

    async fn write(&self, value: i64) -> RunResult<()> {
        self.step(Next::Write(value)).await;
        Ok(())
    }

    async fn add(&self, delta: i64) -> RunResult<i64> {
        Ok(self.step(Next::Add(delta)).await)
    }

    async fn lock(&self, lock: usize) -> RunResult<()> {
        self.step(Next::Lock(lock)).await;
        Ok(())
    }

    async fn try_lock(&self, lock: usize, _timeout_ms: f64) -> RunResult<bool> {
        Ok(self.step(Next::TryLock(lock)).await == 1)
    }

    async fn unlock(&self, lock: usize) -> RunResult<()> {
        self.step(Next::Unlock(lock)).await;
        Ok(())
    }

    fn pause(&self, _what: &str, _ms: f64) -> RunResult<()> {
        Ok(())
    }
}

/// One instance of a lesson on the scheduler, moved one choice at a time.
pub struct Machine<'l> {
    lesson: &'l Lesson,
    variant: &'l str,
    size: Size,
    world: Rc<RefCell<World>>,
    bodies: Vec<Option<Body>>,
    choices: Vec<usize>,
}

/// Everything the rest of a scheduled run depends on (see `World::reads`).
type Key = (i64, Vec<Option<usize>>, Vec<(bool, u32, Vec<i64>)>);

impl<'l> Machine<'l> {
    pub fn new(lesson: &'l Lesson, variant: &'l str, size: Size) -> Machine<'l> {
        let n = size.threads;
        let world = Rc::new(RefCell::new(World {
            value: lesson.start,
            holder: vec![None; (lesson.locks)(size).len()],
            next: vec![None; n],
            done: vec![false; n],
            granted: None,
            last_read: vec![None; n],
            reads: vec![Vec::new(); n],
            taken: vec![0; n],
            steps: Vec::new(),
            first_lost: None,
            lost_now: false,
        }));
        let bodies =
            (0..n).map(|me| Some((lesson.body)(variant, size, me, Scheduled { world: world.clone(), me }))).collect();
        let mut machine = Machine { lesson, variant, size, world, bodies, choices: Vec::new() };
        for me in 0..n {
            machine.poll(me); // runs each body up to its first shared step
        }
        machine
    }

    /// Replays `choices` from the start; an impossible choice is an error naming it.
    pub fn replay(lesson: &'l Lesson, variant: &'l str, size: Size, choices: &[usize]) -> Result<Machine<'l>, String> {
        let mut machine = Machine::new(lesson, variant, size);
        for (i, &c) in choices.iter().enumerate() {
            machine.choose(c).map_err(|e| format!("choice {} of {}: {e}", i + 1, choices.len()))?;
        }
        Ok(machine)
    }

    fn poll(&mut self, me: usize) {
        let Some(body) = self.bodies[me].as_mut() else { return };
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        // A scheduled body never fails: its steps cannot be stopped or time out.
        if Pin::new(body).poll(&mut cx).is_ready() {
            self.bodies[me] = None;
            self.world.borrow_mut().done[me] = true;
        }
    }

    fn can_move(&self, me: usize) -> bool {
        let w = self.world.borrow();
        match w.next[me] {
            _ if w.done[me] => false,
            Some(Next::Lock(l)) => w.holder[l].is_none(),
            Some(_) => true,
            None => false,
        }
    }

    /// The threads that can take a step now.
    pub fn enabled(&self) -> Vec<usize> {
        (0..self.size.threads).filter(|&t| self.can_move(t)).collect()
    }

    /// Moves thread `me` (0-based) by one shared step.
    pub fn choose(&mut self, me: usize) -> Result<(), String> {
        if me >= self.size.threads {
            return Err(format!("there is no thread {}", me + 1));
        }
        if !self.can_move(me) {
            return Err(format!("thread {} cannot move now", me + 1));
        }
        {
            let mut w = self.world.borrow_mut();
            w.granted = Some(me);
            w.lost_now = false;
        }
        self.poll(me);
        self.choices.push(me);
        Ok(())
    }

    pub fn finished(&self) -> bool {
        self.world.borrow().done.iter().all(|&d| d)
    }

    pub fn deadlocked(&self) -> bool {
        !self.finished() && self.enabled().is_empty()
    }

    /// Whether the lesson's failure just happened (a lost update by the last move, or a deadlock).
    fn failed_now(&self) -> bool {
        match self.lesson.failure {
            Failure::LostUpdate => self.world.borrow().lost_now,
            Failure::Deadlock => self.deadlocked(),
        }
    }

    fn failed(&self) -> bool {
        match self.lesson.failure {
            Failure::LostUpdate => self.world.borrow().first_lost.is_some(),
            Failure::Deadlock => self.deadlocked(),
        }
    }

    fn key(&self) -> Key {
        let w = self.world.borrow();
        let threads = (0..self.size.threads).map(|t| (w.done[t], w.taken[t], w.reads[t].clone())).collect();
        (w.value, w.holder.clone(), threads)
    }

    pub fn value(&self) -> i64 {
        self.world.borrow().value
    }

    /// What the writes over values their threads had not read erased: each such write replaced
    /// the value it found by one computed from an older one, undoing (found - read).
    pub fn erased(&self) -> i64 {
        self.world.borrow().steps.iter().filter(|s| s.op == Op::Write).filter_map(|s| s.read.map(|r| s.was - r)).sum()
    }

    /// The steps so far in the stepper's format, lost updates and wait cycles explained. The
    /// threads stuck on a lock are shown asking for it, so a deadlock's circle is drawn.
    pub fn stepper(&self, mode: &str) -> Stepper {
        let w = self.world.borrow();
        let mut steps = w.steps.clone();
        if self.deadlocked() {
            for me in 0..self.size.threads {
                if let Some(Next::Lock(l)) = w.next[me] {
                    let (thread, seq, t) = (me as u32 + 1, u64::from(w.taken[me]), steps.len() as f64);
                    steps.push(Step { thread, seq, op: Op::LockWait, value: l as i64, was: l as i64, read: None, t });
                }
            }
        }
        let recorder = Recorder::new(true, self.size.threads);
        for me in 0..self.size.threads {
            let kept: Vec<Step> = steps.iter().filter(|s| s.thread == me as u32 + 1).copied().collect();
            let data = TrackData {
                lane: format!("thread {}", me + 1),
                thread: me as u32 + 1,
                happened: kept.len() as u64,
                kept,
                ..TrackData::default()
            };
            recorder.tracks.lock().unwrap_or_else(|e| e.into_inner()).push(data);
        }
        let locks = (self.lesson.locks)(self.size);
        let stepper =
            recorder.finish(&Names { mode, shared: self.lesson.shared, update: self.lesson.update, locks: &locks });
        Stepper { clock: Clock::Step, ..stepper }
    }

    /// What the page shows: every thread's next step and local copy, the shared state, whether
    /// the goal is reached (explained from the steps), and the steps so far.
    pub fn view(&self) -> View {
        let locks = (self.lesson.locks)(self.size);
        let stepper = self.stepper(self.variant);
        let w = self.world.borrow();
        let lane = |t: usize| format!("thread {}", t + 1);
        let threads = (0..self.size.threads)
            .map(|t| {
                let next = match w.next[t] {
                    _ if w.done[t] => None,
                    Some(Next::Read) => Some(format!("read the {}", self.lesson.shared)),
                    Some(Next::Write(v)) => Some(format!("write {v} to the {}", self.lesson.shared)),
                    Some(Next::Add(d)) => Some(format!("add {d} to the {} in one step", self.lesson.shared)),
                    Some(Next::Lock(l)) => Some(format!("take {}", locks[l])),
                    Some(Next::TryLock(l)) => Some(format!("try {} (give up if held)", locks[l])),
                    Some(Next::Unlock(l)) => Some(format!("release {}", locks[l])),
                    None => None,
                };
                let waits_for = match w.next[t] {
                    Some(Next::Lock(l)) if w.holder[l].is_some_and(|h| h != t) => {
                        Some(format!("{} is held by {}", locks[l], lane(w.holder[l].unwrap_or(t))))
                    }
                    _ => None,
                };
                ThreadView {
                    name: lane(t),
                    next,
                    local: w.last_read[t],
                    enabled: self.can_move(t),
                    done: w.done[t],
                    waits_for,
                }
            })
            .collect();
        drop(w);
        let reached = self.failed();
        let deadlocked = self.deadlocked();
        let explanation = if reached { stepper.findings.first().map(|f| f.text.clone()) } else { None };
        let message = match (&explanation, self.finished(), deadlocked) {
            (Some(text), _, _) => text.clone(),
            (None, true, _) if self.lesson.shared.is_empty() => "Every thread finished.".to_string(),
            (None, true, _) => format!("Every thread finished: the {} ends at {}.", self.lesson.shared, self.value()),
            (None, _, true) => "No thread can move.".to_string(),
            (None, false, false) => "Pick the thread that takes the next step.".to_string(),
        };
        View {
            goal: self.lesson.goal.to_string(),
            variant: self.variant.to_string(),
            variants: self.lesson.variants.clone(),
            size: self.size,
            shared: self.lesson.shared.to_string(),
            value: self.value(),
            locks: locks
                .iter()
                .zip(self.world.borrow().holder.iter())
                .map(|(name, h)| LockView { name: name.clone(), holder: h.map(lane) })
                .collect(),
            threads,
            choices: self.choices.clone(),
            reached,
            finished: self.finished(),
            deadlocked,
            explanation,
            message,
            stepper,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ThreadView {
    pub name: String,
    /// What it does when it next moves ("read the balance", "take lock A"); none once done.
    pub next: Option<String>,
    /// Its local copy: the value it read last.
    pub local: Option<i64>,
    pub enabled: bool,
    pub done: bool,
    pub waits_for: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LockView {
    pub name: String,
    pub holder: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ScheduleView"))]
pub struct View {
    pub goal: String,
    pub variant: String,
    pub variants: Vec<Variant>,
    pub size: Size,
    pub shared: String,
    pub value: i64,
    pub locks: Vec<LockView>,
    pub threads: Vec<ThreadView>,
    /// The choices so far (0-based thread indices): the page sends them back, minus the last for undo.
    pub choices: Vec<usize>,
    /// The lesson's goal (its failure) happened.
    pub reached: bool,
    pub finished: bool,
    pub deadlocked: bool,
    /// One sentence from the real steps, once the goal is reached (the stepper's wording).
    pub explanation: Option<String>,
    /// What to say now: the explanation, the end, or what to do.
    pub message: String,
    pub stepper: Stepper,
}

/// What exploring every interleaving of an instance found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ScheduleSearch"))]
pub struct Search {
    pub variant: String,
    pub size: Size,
    /// Complete interleavings (each thread's steps to its end, or to a deadlock), counted exactly.
    pub interleavings: u64,
    /// Of those, the ones in which the failure happens.
    pub failing: u64,
    /// Distinct states visited (what the cache kept the search to).
    pub states: usize,
    /// The shortest schedule that fails (thread indices), if any.
    pub shortest: Option<Vec<usize>>,
    pub summary: String,
    /// The shortest failing schedule replayed: its steps for the stepper, its explanation.
    pub view: Option<View>,
}

/// Refuses an instance the search or the page should not take on.
pub fn check_size(size: Size) -> Result<(), String> {
    if !(1..=MAX_THREADS).contains(&size.threads) || !(1..=MAX_ROUNDS).contains(&size.rounds) {
        return Err(format!("keep it small: 1 to {MAX_THREADS} threads, 1 to {MAX_ROUNDS} rounds each"));
    }
    Ok(())
}

/// Explores every interleaving of `size` threads of `variant`: counts them (memoised over
/// states, so each state's completions are counted once), counts those that fail, and finds the
/// shortest failing schedule breadth-first.
pub fn search(lesson: &Lesson, variant: &str, size: Size) -> Search {
    let mut memo: HashMap<Key, (u64, u64)> = HashMap::new();
    let root = Machine::new(lesson, variant, size);
    let (interleavings, failing) = count(lesson, variant, size, root, &mut Vec::new(), &mut memo);
    let shortest = shortest_failure(lesson, variant, size);
    let (one, many) = lesson.failure.verb();
    let summary = match &shortest {
        None => format!("{} interleavings explored, none {one}.", crate::params::group(interleavings as i64)),
        Some(path) => format!(
            "{} interleavings explored, {} {many}; the shortest failing one takes {} steps.",
            crate::params::group(interleavings as i64),
            crate::params::group(failing as i64),
            path.len()
        ),
    };
    let view = shortest.as_ref().and_then(|path| Machine::replay(lesson, variant, size, path).ok()).map(|m| m.view());
    Search { variant: variant.to_string(), size, interleavings, failing, states: memo.len(), shortest, summary, view }
}

/// (complete interleavings from `machine`'s state, how many of them fail after it).
fn count<'l>(
    lesson: &'l Lesson,
    variant: &'l str,
    size: Size,
    machine: Machine<'l>,
    path: &mut Vec<usize>,
    memo: &mut HashMap<Key, (u64, u64)>,
) -> (u64, u64) {
    let key = machine.key();
    if let Some(&known) = memo.get(&key) {
        return known;
    }
    let enabled = machine.enabled();
    let counted = if enabled.is_empty() {
        (1, u64::from(machine.deadlocked()))
    } else {
        drop(machine);
        let (mut total, mut failing) = (0u64, 0u64);
        for t in enabled {
            path.push(t);
            let child = Machine::replay(lesson, variant, size, path).expect("an enabled thread can move");
            let lost_here = child.failed_now();
            let (all, failed) = count(lesson, variant, size, child, path, memo);
            path.pop();
            total = total.saturating_add(all);
            failing = failing.saturating_add(if lost_here { all } else { failed });
        }
        (total, failing)
    };
    memo.insert(key, counted);
    counted
}

/// Breadth first, so the first failure found is one of the shortest.
fn shortest_failure(lesson: &Lesson, variant: &str, size: Size) -> Option<Vec<usize>> {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([Vec::new()]);
    while let Some(path) = queue.pop_front() {
        let machine = Machine::replay(lesson, variant, size, &path).expect("only possible choices are queued");
        if machine.failed_now() {
            return Some(path);
        }
        if !seen.insert(machine.key()) {
            continue;
        }
        for t in machine.enabled() {
            let mut next = path.clone();
            next.push(t);
            queue.push_back(next);
        }
    }
    None
}

/// A seeded random scheduler over a whole instance: each step, one of the threads that can move,
/// picked at random. Returns the machine at the end (every thread done, or none can move).
pub fn run_random<'l>(lesson: &'l Lesson, variant: &'l str, size: Size, seed: u64) -> Machine<'l> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut machine = Machine::new(lesson, variant, size);
    loop {
        let enabled = machine.enabled();
        if enabled.is_empty() {
            return machine;
        }
        machine.choose(enabled[rng.usize(..enabled.len())]).expect("an enabled thread can move");
    }
}

/// Steppers of scheduled modes are sent to the page up to this many steps.
const STEPPER_STEPS: usize = 5000;

/// A scheduled mode: `variant` of `lesson` over a whole instance on the scheduler engine, a
/// seeded random scheduler picking each step. Says on its row which engine ran; attaches the
/// steps for the stepper when `show` (and they are not too many). Returns the machine at the end and its stepper, for the topic's checks.
pub async fn scheduled_mode<'l>(
    run: &crate::run::Run,
    mode: &str,
    lesson: &'l Lesson,
    variant: &'l str,
    size: Size,
    show: bool,
) -> RunResult<Option<(Machine<'l>, Stepper)>> {
    let seed = crate::clock::now_ms().to_bits() ^ 0x5eed;
    let Some(machine) = run.measure(mode, async { Ok(run_random(lesson, variant, size, seed)) }).await? else {
        return Ok(None);
    };
    let stepper = machine.stepper(mode);
    run.note(
        mode,
        format!(
            "ran on the scheduler engine: {} threads as tasks on one wasm thread, no shared memory; a random scheduler (seed {seed}) picked who took each of the {} shared steps; the pauses are skipped, so its time is not compared with the others",
            size.threads,
            crate::params::group(stepper.steps.len() as i64)
        ),
    );
    if show && stepper.steps.len() <= STEPPER_STEPS {
        run.stepper(stepper.clone());
    }
    Ok(Some((machine, stepper)))
}

/// A request from the page: `{variant, choices, size?}` (size defaults to the lesson's).
#[derive(Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ScheduleRequest"))]
pub struct Request {
    pub variant: Option<String>,
    #[serde(default)]
    pub choices: Vec<usize>,
    #[cfg_attr(test, ts(optional))]
    pub size: Option<Size>,
}

/// Answers "You schedule" (`search: false`: the view after the choices) or "Find the bug"
/// (`search: true`) for `topic`, whose lesson the caller looked up in the catalog
/// (`topics::lesson`: the catalog knows this engine, not the other way round), as JSON; an
/// error is `{"error": text}`.
pub fn answer(topic: &str, lesson: Option<Lesson>, request_json: &str, search_all: bool) -> String {
    let answer = || -> Result<serde_json::Value, String> {
        let lesson = lesson.ok_or_else(|| format!("{topic} has no scheduled lesson"))?;
        let request: Request = serde_json::from_str(request_json).map_err(|e| format!("unreadable request: {e}"))?;
        let size = request.size.unwrap_or(lesson.size);
        check_size(size)?;
        let variant = match request.variant.as_deref() {
            None => lesson.variants[0].id,
            Some(v) => lesson.variants.iter().find(|x| x.id == v).map(|x| x.id).ok_or("unknown variant")?,
        };
        if search_all {
            let started = crate::clock::now_ms();
            let mut found = serde_json::to_value(search(&lesson, variant, size)).map_err(|e| e.to_string())?;
            found["ms"] = (crate::clock::now_ms() - started).into();
            Ok(found)
        } else {
            serde_json::to_value(Machine::replay(&lesson, variant, size, &request.choices)?.view())
                .map_err(|e| e.to_string())
        }
    };
    answer().unwrap_or_else(|error| serde_json::json!({ "error": error })).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::lesson;

    fn size(threads: usize, rounds: usize) -> Size {
        Size { threads, rounds }
    }

    #[test]
    fn two_unlocked_withdrawals_have_six_interleavings_and_four_lose_an_update() {
        let race = lesson("race").unwrap();
        let found = search(&race, "unsafe", size(2, 1));
        assert_eq!((found.interleavings, found.failing), (6, 4));
        // Both read before either writes: 4 steps, explained in the stepper's words.
        assert_eq!(found.shortest, Some(vec![0, 1, 0, 1]));
        let view = found.view.unwrap();
        assert!(view.reached);
        assert_eq!(
            view.explanation.as_deref(),
            Some(
                "thread 1 read 100, thread 2 read 100, thread 1 wrote 99, thread 2 wrote 99: one withdrawal vanished."
            )
        );
        assert_eq!(
            found.summary,
            "6 interleavings explored, 4 lose an update; the shortest failing one takes 4 steps."
        );
    }

    #[test]
    fn under_the_lock_no_interleaving_loses_an_update() {
        let race = lesson("race").unwrap();
        // Each thread: take, read, write, release; once one holds the lock the other must wait.
        let found = search(&race, "safe", size(2, 1));
        assert_eq!((found.interleavings, found.failing), (2, 0));
        assert_eq!(found.summary, "2 interleavings explored, none loses an update.");
        assert!(found.shortest.is_none() && found.view.is_none());
        let three = search(&race, "safe", size(3, 2));
        // 6 critical sections, each thread's 2 in order: 6! / (2! 2! 2!) = 90.
        assert_eq!((three.interleavings, three.failing), (90, 0));
    }

    #[test]
    fn counts_grow_as_they_should_and_the_cache_keeps_the_search_small() {
        let counter = lesson("counter").unwrap();
        // 2 threads x 2 increments: 4 steps each, C(8, 4) = 70 orders.
        let found = search(&counter, "unsync", size(2, 2));
        assert_eq!(found.interleavings, 70);
        assert!(found.failing > 0 && found.failing < 70);
        // 3 threads x 2 increments: 12! / (4!)^3 = 34,650 orders, far fewer states.
        let big = search(&counter, "unsync", size(3, 2));
        assert_eq!(big.interleavings, 34_650);
        assert!(big.states < 5_000, "{} states", big.states);
        assert_eq!(search(&counter, "mutex", size(3, 2)).failing, 0);
    }

    #[test]
    fn opposite_lock_orders_deadlock_and_one_order_never_does() {
        let deadlock = lesson("deadlock").unwrap();
        let found = search(&deadlock, "deadlock", size(2, 1));
        // Each takes its first lock: the shortest way into the circle.
        assert_eq!(found.shortest.as_ref().map(Vec::len), Some(2));
        assert!(found.failing > 0);
        let view = found.view.unwrap();
        assert!(view.deadlocked && view.reached);
        let text = view.explanation.unwrap();
        assert!(text.contains("each waits for a lock the next one holds"), "{text}");
        assert_eq!(view.stepper.graph.unwrap().cycle.len(), 2);
        let fixed = search(&deadlock, "ordered", size(2, 1));
        assert_eq!(fixed.failing, 0);
        assert!(fixed.summary.ends_with("none deadlocks."), "{}", fixed.summary);
    }

    #[test]
    fn a_bank_without_its_lock_lets_two_withdrawals_through_on_one_balance() {
        let bank = lesson("bank").unwrap();
        let found = search(&bank, "unlocked", size(2, 1));
        assert_eq!((found.interleavings, found.failing), (6, 4));
        assert!(found.view.unwrap().explanation.unwrap().ends_with("one transaction vanished."));
        assert_eq!(search(&bank, "locked", size(2, 1)).failing, 0);
    }

    #[test]
    fn the_view_says_what_each_thread_does_next_and_undo_is_a_shorter_replay() {
        let race = lesson("race").unwrap();
        let m = Machine::replay(&race, "unsafe", size(2, 1), &[0]).unwrap();
        let v = m.view();
        assert_eq!(v.threads[0].next.as_deref(), Some("write 99 to the balance"));
        assert_eq!(v.threads[0].local, Some(100));
        assert_eq!(v.threads[1].next.as_deref(), Some("read the balance"));
        assert_eq!(v.threads[1].local, None);
        assert!(!v.reached && v.stepper.steps.len() == 1);
        let undone = Machine::replay(&race, "unsafe", size(2, 1), &[]).unwrap().view();
        assert!(undone.stepper.steps.is_empty() && undone.value == 100);
        // A thread waiting for a lock cannot be picked.
        let safe = Machine::replay(&race, "safe", size(2, 1), &[0]).unwrap();
        assert_eq!(safe.enabled(), vec![0]);
        assert!(Machine::replay(&race, "safe", size(2, 1), &[0, 1]).is_err());
        assert!(safe.view().threads[1].waits_for.as_deref() == Some("the lock is held by thread 1"));
    }

    #[test]
    fn a_random_schedule_of_the_full_instance_ends() {
        let race = lesson("race").unwrap();
        let m = run_random(&race, "unsafe", size(10, 100), 7);
        assert!(m.finished());
        let lost: i64 = m.stepper("x").findings.iter().map(|f| f.lost).sum();
        assert_eq!(m.value() - (100 - 1000), lost);
    }

    #[test]
    fn the_page_s_requests_are_answered_as_json_and_bad_ones_say_why() {
        let ask = |topic: &str, request: &str, search_all: bool| answer(topic, lesson(topic), request, search_all);
        let view: serde_json::Value =
            serde_json::from_str(&ask("race", r#"{"variant":"unsafe","choices":[0,1,0,1]}"#, false)).unwrap();
        assert_eq!(view["reached"], true);
        assert_eq!(view["stepper"]["steps"].as_array().unwrap().len(), 4);
        let found: serde_json::Value = serde_json::from_str(&ask("race", r#"{"variant":"unsafe"}"#, true)).unwrap();
        assert_eq!((found["interleavings"].as_u64(), found["failing"].as_u64()), (Some(6), Some(4)));
        assert!(ask("race", r#"{"choices":[0,0,0]}"#, false).contains("error"));
        assert!(ask("cpu-map", "{}", false).contains("no scheduled lesson"));
        assert!(ask("race", r#"{"size":{"threads":9,"rounds":1}}"#, true).contains("keep it small"));
        assert!(ask("race", r#"{"variant":"nope"}"#, false).contains("unknown variant"));
    }

    #[test]
    fn an_atomic_add_is_one_step_and_loses_nothing() {
        let counter = lesson("counter").unwrap();
        // 2 threads x 2 adds: 4 steps, C(4, 2) = 6 orders, none losing an increment.
        let found = search(&counter, "atomic", size(2, 2));
        assert_eq!((found.interleavings, found.failing), (6, 0));
        let m = Machine::replay(&counter, "atomic", size(2, 2), &[0]).unwrap();
        assert_eq!(m.value(), 1);
        assert_eq!(m.view().threads[1].next.as_deref(), Some("add 1 to the counter in one step"));
    }

    #[test]
    fn a_try_lock_takes_a_free_lock_and_gives_up_at_once_on_a_held_one() {
        let mut l = lesson("deadlock").unwrap();
        l.body = body(|_, _, me, steps| {
            Box::pin(async move {
                if me == 0 {
                    steps.lock(0).await?;
                } else {
                    steps.try_lock(0, 50.0).await?;
                }
                Ok(())
            })
        });
        let held = Machine::replay(&l, "deadlock", size(2, 1), &[0, 1]).unwrap().stepper("x");
        assert_eq!(held.steps.last().map(|s| s.op), Some(Op::LockGiveUp));
        let free = Machine::replay(&l, "deadlock", size(2, 1), &[1]).unwrap();
        let took = free.stepper("x").steps.iter().filter(|s| s.thread == "thread 2").map(|s| s.op).collect::<Vec<_>>();
        assert_eq!(took, [Op::LockWait, Op::LockAcquire]);
        assert_eq!(free.enabled(), Vec::<usize>::new(), "thread 2 holds the lock: thread 1 must wait");
    }

    #[test]
    fn a_scheduled_stepper_counts_steps_not_milliseconds() {
        let race = lesson("race").unwrap();
        let stepper = Machine::replay(&race, "unsafe", size(2, 1), &[0, 1]).unwrap().stepper("x");
        assert_eq!(stepper.clock, Clock::Step);
        let ts: Vec<f64> = stepper.steps.iter().map(|s| s.t).collect();
        assert_eq!(ts, [0.0, 1.0]);
    }

    #[test]
    fn a_scheduled_mode_is_timed_but_never_compared() {
        let report = crate::runner::testing::run_native("race", serde_json::json!({}), true);
        let row = |id: &str| report.modes.iter().find(|m| m.id == id).unwrap_or_else(|| panic!("no mode {id}"));
        assert_eq!(report.baseline.as_deref(), Some("unsafe"));
        assert!(row("safe").speedup.is_some());
        for id in ["scheduled-unsafe", "scheduled-safe"] {
            assert!(row(id).wall_ms.is_some() && row(id).speedup.is_none(), "{id}: {:?}", row(id).speedup);
        }
    }
}
