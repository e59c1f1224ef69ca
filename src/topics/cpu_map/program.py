import os, time
from concurrent.futures import ProcessPoolExecutor

TASKS = 2 * os.cpu_count()   # two per core, so the pool has a queue
NUMBERS = 5_000_000       # per task, sized for CPython (the page's run: 400_000_000 on 2 cores, 800_000_000 / cores; the tutorial: 3 tasks of 100_000_000)
WORKERS = os.cpu_count()

def sum_squares(lo, hi):
    return sum(i * i for i in range(lo, hi))

if __name__ == "__main__":
    # consecutive ranges (the tutorial summed the same range each time): every task's sum differs
    ranges = [(k * NUMBERS, (k + 1) * NUMBERS) for k in range(TASKS)]
    print("tasks", TASKS, "workers", WORKERS)

    start = time.perf_counter()
    sequential = [sum_squares(lo, hi) for lo, hi in ranges]
    print("sequential", time.perf_counter() - start)

    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        parallel = list(pool.map(sum_squares, *zip(*ranges)))
    print("pool", time.perf_counter() - start)
    assert parallel == sequential
    print("total", sum(parallel))
