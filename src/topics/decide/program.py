# The decision guide as a function, and a quick measurement of the recommendation.
import asyncio, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

WORK = "mixed"            # "cpu", "wait" or "mixed": where does the time go?
COUNT = "many"            # "few", "many" or "huge": how many tasks at once?
SHARED = False            # tasks update shared state
BLOCKING = False          # only blocking libraries (no async version)
DISTRIBUTED = False       # must survive restarts or use several machines
MEASURE = True            # measure it on this machine

def recommend(work, count, shared=False, blocking=False, distributed=False):
    if distributed:
        return "A distributed task queue (Celery with Redis or RabbitMQ), with the model above inside each worker"
    if work == "cpu":
        return "A process pool (ProcessPoolExecutor, multiprocessing.Pool)"
    if work == "wait":
        return "asyncio (one event loop, many tasks)" if not blocking and count != "few" else "A thread pool (ThreadPoolExecutor)"
    if blocking:
        return "A thread pool for the blocking calls, a process pool for the computing"
    return "asyncio for the waiting, a process pool for the computing (run_in_executor)"
    # shared state: give it one owner that others message (an actor, a queue)

def rounds_per_ms():
    """How many rounds of the arithmetic below one core does in a millisecond (measured once)."""
    start, rounds = time.perf_counter(), 0
    while time.perf_counter() - start < 0.05:
        sum(i * i for i in range(1000))
        rounds += 1
    return rounds / ((time.perf_counter() - start) * 1000)

ROUNDS_PER_MS = rounds_per_ms()

def compute(ms):
    """About `ms` milliseconds of pure-Python arithmetic on one core: a fixed amount of work, so
    threads that wait for the GIL take longer, as they would with real work."""
    return sum(sum(i * i for i in range(1000)) for _ in range(round(ms * ROUNDS_PER_MS)))

def task(cpu_ms, wait_ms):
    time.sleep(wait_ms / 1000)
    compute(cpu_ms)

async def async_task(pool, cpu_ms, wait_ms):
    await asyncio.sleep(wait_ms / 1000)
    await asyncio.get_running_loop().run_in_executor(pool, compute, cpu_ms)

def timed(label, fn):
    start = time.perf_counter()
    fn()
    print(f"{label:>20}: {time.perf_counter() - start:.2f} s")

if __name__ == "__main__":
    print("Recommendation:", recommend(WORK, COUNT, SHARED, BLOCKING, DISTRIBUTED))
    if MEASURE:
        # 8 tasks of about 80 ms, split as the page measures them
        N, (CPU, WAIT) = 8, {"cpu": (40, 0), "wait": (2, 80)}.get(WORK, (20, 50))
        timed("sequential", lambda: [task(CPU, WAIT) for _ in range(N)])
        with ThreadPoolExecutor(4) as pool:
            timed("threads (GIL)", lambda: list(pool.map(task, [CPU] * N, [WAIT] * N)))
        with ProcessPoolExecutor(4) as pool:
            async def main():
                await asyncio.gather(*(async_task(pool, CPU, WAIT) for _ in range(N)))
            timed("asyncio + processes", lambda: asyncio.run(main()))
