import asyncio, os, time
from concurrent.futures import ProcessPoolExecutor
import aiohttp                            # pip install aiohttp

BASE = os.environ.get("PLAYGROUND_BASE", "https://httpbin.org")
INPUTS = 4                                # requests, each names a range to count primes in
LIMIT = 300_000                           # count primes below this, sized for CPython (the page's run: 4_000_000)
WORKERS = os.cpu_count()                  # one process per core
FETCH_DELAY_S = 0.2                       # the simulated service waits this long (httpbin only echoes it back)

def count_primes(lo, hi):                 # CPU-bound: runs in another process
    return sum(all(n % d for d in range(2, int(n**0.5) + 1)) for n in range(max(lo, 2), hi))

async def heartbeat(delays):
    while True:
        planned = time.perf_counter() + 0.015
        await asyncio.sleep(0.015)
        delays.append(time.perf_counter() - planned)   # how late the loop woke us

async def main():
    delays = []
    beat = asyncio.create_task(heartbeat(delays))
    step = -(-LIMIT // INPUTS)
    async with aiohttp.ClientSession() as session:
        async def get(url):
            async with session.get(url) as r:
                return (await r.json())["args"]
        ranges = await asyncio.gather(*(get(f"{BASE}/get?lo={k*step}&hi={min((k+1)*step, LIMIT)}&delay={FETCH_DELAY_S}")
                                        for k in range(INPUTS)))
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(WORKERS) as pool:
        counts = await asyncio.gather(*(loop.run_in_executor(pool, count_primes, int(r["lo"]), int(r["hi"]))
                                        for r in ranges))
    # count_primes(...) called directly here would block the loop: max(delays) would jump
    beat.cancel()
    print(sum(counts), "primes; worst heartbeat delay", max(delays))

if __name__ == "__main__":
    asyncio.run(main())
