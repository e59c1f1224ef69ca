//! A message broker with acknowledgements and a visibility timeout, and a result backend: the two
//! halves of a Celery-like task queue, kept apart from the workers that fetch from them. `C` is
//! what a message carries (a task call), `T` what a finished task returns. A [`Queue`] keeps both
//! in a [`Durable`] store, so a queue that a reload interrupted can be resumed.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

use serde::{de::DeserializeOwned, Serialize};

use crate::engines::durable::Durable;
use crate::run::Run;

/// A message on the broker.
#[derive(Clone, Debug)]
pub struct Message<C> {
    pub id: usize,
    pub call: C,
    /// 0 for the first try (Celery's `self.request.retries`).
    pub attempt: u32,
    /// Not deliverable before this time (a retry's countdown).
    pub eta: f64,
    pub queued_at: f64,
}

/// Ready messages, and delivered ones waiting for their acknowledgement.
pub struct Broker<C> {
    pub ready: VecDeque<Message<C>>,
    /// id -> (message, visibility deadline)
    pub unacked: BTreeMap<usize, (Message<C>, f64)>,
    /// id -> how many times it was delivered, and acknowledged.
    pub deliveries: BTreeMap<usize, usize>,
    pub acks: BTreeMap<usize, usize>,
    /// Every redelivery after a visibility timeout ran out, in order.
    pub redelivered: Vec<usize>,
}

impl<C> Default for Broker<C> {
    fn default() -> Self {
        Broker {
            ready: VecDeque::new(),
            unacked: BTreeMap::new(),
            deliveries: BTreeMap::new(),
            acks: BTreeMap::new(),
            redelivered: Vec::new(),
        }
    }
}

impl<C: Clone> Broker<C> {
    pub fn publish(&mut self, message: Message<C>) {
        self.ready.push_back(message);
    }

    /// Takes the next deliverable message; first puts back every unacknowledged message whose
    /// visibility timeout ran out (its worker is presumed dead).
    pub fn fetch(&mut self, run: &Run, now: f64, visibility: f64) -> Option<Message<C>> {
        let expired: Vec<usize> = self.unacked.iter().filter(|(_, (_, d))| *d <= now).map(|(id, _)| *id).collect();
        for id in expired {
            let (mut message, _) = self.unacked.remove(&id).expect("listed above");
            run.log("broker", format!("task {id}: no ack within the visibility timeout, delivering it again"));
            message.queued_at = now;
            self.redelivered.push(id);
            self.ready.push_front(message);
        }
        let index = self.ready.iter().position(|m| m.eta <= now)?;
        let message = self.ready.remove(index)?;
        *self.deliveries.entry(message.id).or_default() += 1;
        self.unacked.insert(message.id, (message.clone(), now + visibility));
        Some(message)
    }

    pub fn ack(&mut self, id: usize) {
        if self.unacked.remove(&id).is_some() {
            *self.acks.entry(id).or_default() += 1;
        }
    }

    pub fn waiting(&self) -> usize {
        self.ready.len()
    }
}

/// A task's state in the result backend (Celery's names).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum State<T> {
    Pending,
    Started,
    Retry,
    Success(T),
    Failure(String),
}

impl<T> State<T> {
    /// Success or failure: nothing more will happen to the task.
    pub fn is_finished(&self) -> bool {
        matches!(self, State::Success(_) | State::Failure(_))
    }
}

/// The result backend and the client's view of it: AsyncResult.ready() and .get().
pub struct Backend<T>(RefCell<BTreeMap<usize, State<T>>>);

impl<T: Clone> Backend<T> {
    pub fn new() -> Self {
        Backend(RefCell::new(BTreeMap::new()))
    }

    pub fn ready(&self, id: usize) -> bool {
        self.0.borrow().get(&id).is_some_and(State::is_finished)
    }

    pub fn get(&self, id: usize) -> State<T> {
        self.0.borrow().get(&id).cloned().unwrap_or(State::Pending)
    }

    pub fn set(&self, id: usize, state: State<T>) {
        self.0.borrow_mut().insert(id, state);
    }
}

impl<T: Clone> Default for Backend<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// What is kept across a reload: every task's call, latest attempt and state.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Saved<C, T> {
    /// How many tasks the run that saved it asked for.
    pub tasks: usize,
    pub entries: Vec<(usize, C, u32, State<T>)>,
}

impl<C, T> Saved<C, T> {
    pub fn unfinished(&self) -> bool {
        self.entries.iter().any(|entry| !entry.3.is_finished())
    }
}

/// The broker and the backend together, saved after every change of a task's state.
pub struct Queue<C, T> {
    pub broker: RefCell<Broker<C>>,
    pub backend: Backend<T>,
    /// Per task: its call and latest attempt, as saved.
    calls: RefCell<BTreeMap<usize, (C, u32)>>,
    /// None when the platform cannot keep it, or after a save failed.
    store: RefCell<Option<Durable>>,
    /// The task count saved with it.
    tasks: usize,
}

impl<C: Clone + Serialize + DeserializeOwned, T: Clone + Serialize + DeserializeOwned> Queue<C, T> {
    pub fn new(store: Option<Durable>, tasks: usize) -> Self {
        Queue {
            broker: RefCell::new(Broker::default()),
            backend: Backend::new(),
            calls: RefCell::new(BTreeMap::new()),
            store: RefCell::new(store),
            tasks,
        }
    }

    /// Puts a call on the broker, deliverable from `eta`.
    pub fn publish(&self, id: usize, call: C, attempt: u32, eta: f64) {
        self.calls.borrow_mut().insert(id, (call.clone(), attempt));
        self.broker.borrow_mut().publish(Message { id, call, attempt, eta, queued_at: eta });
    }

    /// Stores a task's new state in the backend, and saves the queue.
    pub fn record(&self, run: &Run, id: usize, state: State<T>) {
        self.backend.set(id, state);
        self.save(run);
    }

    /// Every task published or resumed, in id order.
    pub fn task_ids(&self) -> Vec<usize> {
        self.calls.borrow().keys().copied().collect()
    }

    /// Per task: its latest attempt (0 for the first try).
    pub fn attempts(&self) -> BTreeMap<usize, u32> {
        self.calls.borrow().iter().map(|(&id, (_, attempt))| (id, *attempt)).collect()
    }

    pub fn save(&self, run: &Run) {
        let mut store = self.store.borrow_mut();
        let Some(durable) = store.as_mut() else { return };
        let entries = self
            .calls
            .borrow()
            .iter()
            .map(|(&id, (call, attempt))| (id, call.clone(), *attempt, self.backend.get(id)))
            .collect();
        if let Err(error) = durable.save(&Saved { tasks: self.tasks, entries }) {
            run.log("broker", format!("could not save the queue ({error}); it is no longer kept"));
            *store = None;
        }
    }

    /// Takes back a queue saved by a run that a reload interrupted: finished tasks keep their
    /// results, the others go back on the broker. Returns the ids that had finished.
    pub fn resume(&self, now: f64, saved: Saved<C, T>) -> Vec<usize> {
        let mut kept = Vec::new();
        for (id, call, attempt, state) in saved.entries {
            if state.is_finished() {
                self.calls.borrow_mut().insert(id, (call, attempt));
                self.backend.set(id, state);
                kept.push(id);
            } else {
                self.publish(id, call, attempt, now);
                self.backend.set(id, State::Pending);
            }
        }
        kept
    }
}
