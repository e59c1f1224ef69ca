# A small Celery in the standard library: a broker with acks and a visibility timeout, a result
# backend, worker processes (one killed mid-task), retries with back-off. With real Celery:
#   @app.task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
#   def flaky(self, x): ... self.retry(countdown=...)
#   result = add.delay(2, 3); result.ready(); result.get()
import multiprocessing as mp, queue, time, uuid

TASKS = 10                # add(i, i) tasks; one more is the flaky task
WORKERS = 3
TASK_MS = 150             # each task's duration
VISIBILITY_MS = 500       # a delivered, unacknowledged message is delivered again after this
KILL = True               # kill a worker mid-task
KILL_AT_MS = 250
MAX_RETRIES = 3
BACKOFF_MS = 100          # doubled at every retry
POLL_MS = 50              # how often the client asks ready()

def add(x, y, attempt):
    return x + y

def flaky(x, attempt):
    if attempt < 2:
        raise ConnectionError(f"attempt {attempt} failed")
    return x * 10

REGISTRY = {"add": add, "flaky": flaky}       # as Celery's app.tasks

def worker(inbox, outbox):
    while True:
        tid, name, args, attempt = inbox.get()
        time.sleep(TASK_MS / 1000)                          # the work
        try:
            outbox.put((tid, "ok", REGISTRY[name](*args, attempt)))
        except Exception as e:
            outbox.put((tid, "error", repr(e)))

class Broker:
    def __init__(self):
        self.ready, self.unacked = [], {}                   # tid -> (message, deadline)
    def publish(self, message, eta=0.0):
        self.ready.append((eta, message))
    def fetch(self):
        now = time.monotonic()
        for tid, (message, deadline) in list(self.unacked.items()):
            if deadline < now:                              # no ack in time: deliver again
                del self.unacked[tid]
                self.ready.insert(0, (0.0, message))
                print("visibility timeout: redelivering", tid[:8])
        for i, (eta, message) in enumerate(self.ready):
            if eta <= now:
                del self.ready[i]
                self.unacked[message[0]] = (message, now + VISIBILITY_MS / 1000)
                return message
    def ack(self, tid):
        self.unacked.pop(tid, None)

class AsyncResult:
    def __init__(self, tid, backend):
        self.id, self.backend = tid, backend
    def ready(self):
        return self.backend.get(self.id, ("PENDING",))[0] in ("SUCCESS", "FAILURE")
    def get(self):
        return self.backend[self.id][1]

def main():
    broker, backend = Broker(), {}
    def delay(name, *args):
        tid = str(uuid.uuid4())
        broker.publish((tid, name, args, 0))
        return AsyncResult(tid, backend)

    results = [delay("add", i, i) for i in range(TASKS)] + [delay("flaky", 7)]
    outbox = mp.Queue()
    def start():
        inbox = mp.Queue()
        p = mp.Process(target=worker, args=(inbox, outbox), daemon=True)
        p.start()
        return {"process": p, "inbox": inbox, "task": None}
    workers = [start() for _ in range(WORKERS)]
    started, killed = time.monotonic(), False
    while not all(r.ready() for r in results):
        if KILL and not killed and time.monotonic() - started > KILL_AT_MS / 1000:
            victim = next((w for w in workers if w["task"]), None)
            if victim:
                victim["process"].terminate()                # killed mid-task: no ack
                print("killed a worker running", victim["task"][:8])
                workers[workers.index(victim)] = start()
                killed = True
        for w in workers:                                   # hand work to idle workers
            if w["task"] is None and (message := broker.fetch()):
                w["task"] = message[0]
                w["inbox"].put(message)
        try:
            tid, status, value = outbox.get(timeout=POLL_MS / 1000)   # then ready() again
        except queue.Empty:
            continue
        for w in workers:
            if w["task"] == tid:
                w["task"] = None
        message = broker.unacked.get(tid, (None,))[0]
        broker.ack(tid)                                     # as acks_late: after the task ran
        if status == "ok":
            backend[tid] = ("SUCCESS", value)
        elif message and message[3] < MAX_RETRIES:          # retry with back-off
            _, name, args, attempt = message
            broker.publish((tid, name, args, attempt + 1), time.monotonic() + BACKOFF_MS / 1000 * 2 ** attempt)
            backend[tid] = ("RETRY", value)
        else:
            backend[tid] = ("FAILURE", value)
    print([r.get() for r in results])
    print("successes", sum(backend[r.id][0] == "SUCCESS" for r in results), "of", len(results))

if __name__ == "__main__":
    main()
