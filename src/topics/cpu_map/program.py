import os, time
from concurrent.futures import ProcessPoolExecutor

TASKS = 2 * os.cpu_count()   # two per core, so the pool has a queue
NUMBERS = 5_000_000       # per task, sized for CPython (the page's run: 400_000_000 on 2 cores, 800_000_000 / cores; the tutorial: 3 tasks of 100_000_000)
WORKERS = os.cpu_count()

def sum_squares(start, stop, step):
    return sum(i * i for i in range(start, stop, step))

if __name__ == "__main__":
    # the numbers below TASKS * NUMBERS dealt out like cards (task k: k, k + TASKS, ...), so every
    # task's sum differs (the tutorial summed the same range each time) and every task costs about the same
    tasks = [(k, TASKS * NUMBERS, TASKS) for k in range(TASKS)]
    print("tasks", TASKS, "workers", WORKERS)

    start = time.perf_counter()
    sequential = [sum_squares(*task) for task in tasks]
    print("sequential", time.perf_counter() - start)

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        parallel = list(pool.map(sum_squares, *zip(*tasks)))
    print("pool", time.perf_counter() - start)
    assert parallel == sequential
    print("total", sum(parallel))
