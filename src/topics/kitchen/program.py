import asyncio, time
from multiprocessing import Process

TIME_SCALE = 0.05                    # 1 restores the original seconds (14 s and 7 s)

DISHES = {"pasta": [("boil the water", 2), ("cook the pasta", 5)],
          "sauce": [("chop and fry", 3), ("simmer the sauce", 4)]}

def cook(dish):                      # one worker: blocking waits
    for step, seconds in DISHES[dish]:
        time.sleep(seconds * TIME_SCALE)

async def cook_async(dish):          # one cook on the event loop
    for step, seconds in DISHES[dish]:
        await asyncio.sleep(seconds * TIME_SCALE)  # gives the loop to the other dish

async def dinner():
    await asyncio.gather(*(cook_async(d) for d in DISHES))

# all three parts under the guard: a child process re-imports this file (spawn, and forkserver:
# the default on Linux since Python 3.14)
if __name__ == "__main__":
    start = time.perf_counter()
    for dish in DISHES: cook(dish)
    print("sequential", time.perf_counter() - start)   # ~14 s x TIME_SCALE

    start = time.perf_counter()
    asyncio.run(dinner())
    print("concurrent", time.perf_counter() - start)   # ~7 s x TIME_SCALE

    start = time.perf_counter()
    cooks = [Process(target=cook, args=(d,)) for d in DISHES]
    for c in cooks: c.start()
    for c in cooks: c.join()
    print("parallel", time.perf_counter() - start)     # ~7 s x TIME_SCALE
