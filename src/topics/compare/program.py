import asyncio, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

TASKS = 8
CPU_MS = 20             # computing per task
WAIT_MS = 60            # waiting per task
POOL = 4                # threads / processes in each pool
SWEEP = 0               # > 0: rerun with the same CPU + wait total, from all waiting to all CPU

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
    time.sleep(wait_ms / 1000)          # waiting: releases the GIL
    return compute(cpu_ms)              # computing: holds it

async def async_task(cpu_ms, wait_ms, pool=None):
    await asyncio.sleep(wait_ms / 1000)
    if pool is None:
        return compute(cpu_ms)          # blocks the event loop
    return await asyncio.get_running_loop().run_in_executor(pool, compute, cpu_ms)

async def gather(cpu_ms, wait_ms, pool=None):
    return await asyncio.gather(*(async_task(cpu_ms, wait_ms, pool) for _ in range(TASKS)))

def timed(label, fn):
    start = time.perf_counter()
    fn()
    print(f"{label:>22}: {time.perf_counter() - start:.3f} s")

def compare(cpu_ms, wait_ms, processes):
    print(f"{TASKS} tasks of {cpu_ms:g} ms CPU and {wait_ms:g} ms waiting, pools of {POOL}")
    cpus, waits = [cpu_ms] * TASKS, [wait_ms] * TASKS
    timed("sequential", lambda: [task(cpu_ms, wait_ms) for _ in range(TASKS)])
    with ThreadPoolExecutor(POOL) as threads:   # under the GIL (on the free-threaded build: in parallel)
        timed("threads (GIL)", lambda: list(threads.map(task, cpus, waits)))
    timed("processes", lambda: list(processes.map(task, cpus, waits)))
    timed("async + process pool", lambda: asyncio.run(gather(cpu_ms, wait_ms, processes)))
    timed("async", lambda: asyncio.run(gather(cpu_ms, wait_ms)))

if __name__ == "__main__":
    with ProcessPoolExecutor(POOL) as processes:
        list(processes.map(compute, [1] * POOL))   # start the processes before timing
        compare(CPU_MS, WAIT_MS, processes)
        for step in range(SWEEP + 1 if SWEEP else 0):
            cpu = (CPU_MS + WAIT_MS) * step / SWEEP
            compare(cpu, CPU_MS + WAIT_MS - cpu, processes)
