import asyncio, time
from concurrent.futures import ThreadPoolExecutor

COUNT = 10                # waits
LATENCY_MS = 100          # each wait
POOL = 10                 # threads in the pool

def wait(i):
    time.sleep(LATENCY_MS / 1000)   # a blocking I/O call
    return i

async def await_one(i):
    await asyncio.sleep(LATENCY_MS / 1000)  # gives the event loop back while waiting
    return i

async def main():
    return await asyncio.gather(*(await_one(i) for i in range(COUNT)))

if __name__ == "__main__":
    start = time.perf_counter()
    done = [wait(i) for i in range(COUNT)]
    print("sequential", time.perf_counter() - start)    # ~1.0 s

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=POOL) as pool:
        done = list(pool.map(wait, range(COUNT)))
    print("threads", time.perf_counter() - start)       # ~0.1 s

    start = time.perf_counter()
    done = asyncio.run(main())
    print("async", time.perf_counter() - start)         # ~0.1 s
    print("waits", len(done))
