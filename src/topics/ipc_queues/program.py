import random, time
from multiprocessing import Process, Queue

NUMBERS = 20              # squares of 1..N
WORKERS = 4
PAUSE_MIN_MS, PAUSE_MAX_MS = 100, 300
TIME_SCALE = 1.0
SEED = 0                  # each worker seeds with SEED + its id (0: new each run)

def worker(wid, tasks, results):
    rng = random.Random(SEED + wid if SEED else None)
    while True:
        n = tasks.get()               # blocks until there is an item
        if n is None:                 # the stop pill
            break
        time.sleep(rng.uniform(PAUSE_MIN_MS, PAUSE_MAX_MS) / 1000 * TIME_SCALE)
        results.put((wid, n, n * n))

if __name__ == "__main__":
    tasks, results = Queue(), Queue()
    for n in range(1, NUMBERS + 1):
        tasks.put(n)
    for _ in range(WORKERS):
        tasks.put(None)               # one pill per worker
    procs = [Process(target=worker, args=(w, tasks, results)) for w in range(1, WORKERS + 1)]
    for p in procs: p.start()
    out = [results.get() for _ in range(NUMBERS)]   # read before join: a full pipe blocks a child
    for p in procs: p.join()
    for wid, n, square in sorted(out, key=lambda r: r[1]):
        print(f"{n}^2 = {square} (worker {wid})")
    print("results", len(out), "sum of squares", sum(s for _, _, s in out))
