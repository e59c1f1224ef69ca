import asyncio, time

NAMES = "Ada, Grace"
WAIT_S = 1.0
TIME_SCALE = 0.5          # 1 restores the original wait

async def greet(name, wait=WAIT_S * TIME_SCALE):
    print(f"Hello, {name}")
    await asyncio.sleep(wait)      # the loop runs other tasks meanwhile
    print(f"Goodbye, {name}")
    return name

async def main():
    names = [n.strip() for n in NAMES.split(",")]
    start = time.perf_counter()
    for name in names:
        await greet(name)           # one after another: N waits
    print("one by one", time.perf_counter() - start)

    start = time.perf_counter()
    # gather inside a coroutine: asyncio.run(asyncio.gather(...)) fails (asyncio.run wants a coroutine)
    done = await asyncio.gather(*(greet(n) for n in names))   # together: ~ one wait
    print("gathered", time.perf_counter() - start)
    print("greeted", len(done))

if __name__ == "__main__":
    asyncio.run(main())
