import asyncio, os, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor
import aiohttp                       # pip install aiohttp

# the public test service; the playground's own (sim-server) when PLAYGROUND_BASE is set
BASE = os.environ.get("PLAYGROUND_BASE", "https://httpbin.org")
URLS = [f"{BASE}/delay/1", f"{BASE}/delay/2", f"{BASE}/status/404", f"{BASE}/json", f"{BASE}/html",
        f"{BASE}/delay/10"]          # answers after the timeout: a host that never answers in time
TIMEOUT_S = 3                        # per request (the page's default is 0.6 s at a time scale of 0.2)
THREADS = 7                          # the thread pool's size

def get_blocking(url):               # blocks its thread; CPython lets go of the GIL while it waits
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return url, response.status, len(response.read()), time.perf_counter() - start
    except urllib.error.HTTPError as error:  # 404 is an answer too
        return url, error.code, len(error.read()), time.perf_counter() - start
    except Exception as error:
        return url, repr(error), 0, time.perf_counter() - start

async def get(session, url):
    start = time.perf_counter()
    try:
        async with session.get(url) as response:
            body = await response.text()
            return url, response.status, len(body), time.perf_counter() - start
    except Exception as error:              # one failure stays with its request
        return url, repr(error), 0, time.perf_counter() - start

async def main():
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:   # one shared client
        start = time.perf_counter()
        results = await asyncio.gather(*(get(session, u) for u in URLS))
        for r in results:
            print(r)
        print("total", time.perf_counter() - start)   # ~ the slowest request, or the timeout
        print("answered", sum(isinstance(status, int) for _, status, _, _ in results), "of", len(URLS))

        async def status(url):                  # no try: an error is raised out of the coroutine
            async with session.get(url) as response:
                response.raise_for_status()     # 404 becomes an exception too
                return response.status
        start = time.perf_counter()
        try:                                    # the default: the first exception is raised at once
            await asyncio.gather(*(status(u) for u in URLS))
        except Exception as error:              # ...while the other requests go on, unread
            print("gather raised", repr(error), f"after {time.perf_counter() - start:.2f} s")
        # return_exceptions=True: every exception comes back in its place, the others still finish
        outcomes = await asyncio.gather(*(status(u) for u in URLS), return_exceptions=True)
        print("raised", sum(isinstance(o, Exception) for o in outcomes), "of", len(URLS))

if __name__ == "__main__":
    asyncio.run(main())

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:   # the same requests, a thread each
        results = list(pool.map(get_blocking, URLS))
    print("threads total", time.perf_counter() - start)     # ~ the slowest too, with THREADS threads
    print("threads answered", sum(isinstance(status, int) for _, status, _, _ in results), "of", len(URLS))
