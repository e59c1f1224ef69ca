import queue, random, threading, time

PRODUCERS, ITEMS, CONSUMERS = 2, 5, 3     # ITEMS per producer
QUEUE_SIZE = 3            # put() blocks while full (the tutorial's queue was unbounded)
PRODUCE_MIN_MS, PRODUCE_MAX_MS = 100, 500
CONSUME_MIN_MS, CONSUME_MAX_MS = 200, 800
TIME_SCALE = 0.5
SEED = 0                  # 0: new each run

q = queue.Queue(maxsize=QUEUE_SIZE)
left = PRODUCERS
left_lock = threading.Lock()
consumed = []

def producer(p):
    global left
    for n in range(1, ITEMS + 1):
        time.sleep(random.uniform(PRODUCE_MIN_MS, PRODUCE_MAX_MS) / 1000 * TIME_SCALE)
        q.put(f"P{p}-{n}")
    with left_lock:
        left -= 1
        if left == 0:                  # the last producer sends the sentinels, one per consumer
            for _ in range(CONSUMERS):
                q.put(None)

def consumer(c):
    while (item := q.get()) is not None:
        time.sleep(random.uniform(CONSUME_MIN_MS, CONSUME_MAX_MS) / 1000 * TIME_SCALE)
        print(f"consumer {c} consumed {item}")
        consumed.append(item)          # list.append is one step: safe without a lock
        q.task_done()                  # this item is fully handled
    q.task_done()                      # the sentinel too

done = []

def consumer_until_joined(q2, c):   # no sentinel: loops until the program ends
    while True:
        item = q2.get()
        time.sleep(random.uniform(CONSUME_MIN_MS, CONSUME_MAX_MS) / 1000 * TIME_SCALE)
        done.append(item)
        q2.task_done()                 # after the work: join() waits for this

if __name__ == "__main__":
    random.seed(SEED or None)
    threads = [threading.Thread(target=producer, args=(p,)) for p in range(1, PRODUCERS + 1)]
    threads += [threading.Thread(target=consumer, args=(c,)) for c in range(1, CONSUMERS + 1)]
    for t in threads: t.start()
    for t in threads: t.join()
    q.join()                           # returns at once: every put() has had its task_done()
    assert sorted(consumed) == sorted(f"P{p}-{n}" for p in range(1, PRODUCERS + 1) for n in range(1, ITEMS + 1))
    print("consumed", len(consumed), "items, each once")

    # The second mode: no sentinels; main waits with join() until every item is marked done.
    q2 = queue.Queue(maxsize=QUEUE_SIZE)
    for c in range(1, CONSUMERS + 1):  # daemon threads: they die with the program (3.13+: q2.shutdown())
        threading.Thread(target=consumer_until_joined, args=(q2, c), daemon=True).start()
    producers = [threading.Thread(target=lambda p=p: [q2.put(f"P{p}-{n}") for n in range(1, ITEMS + 1)])
                 for p in range(1, PRODUCERS + 1)]
    for t in producers: t.start()
    for t in producers: t.join()       # every put() made before join(), or it may return too soon
    start = time.perf_counter()
    q2.join()                          # blocks until the last task_done()
    print("joined", len(done), "items done", f"after {time.perf_counter() - start:.2f} s")
