import asyncio

ITEMS = 20
MAX_SIZE = 10             # the queue's bound
CONSUMERS = 2
PRODUCE_MS = 10           # time to make an item
CONSUME_MS = 100          # time to handle an item
TIME_SCALE = 1.0
ONE_SENTINEL = False      # the short reference page's bug: one None for all consumers
WATCHDOG_S = 1.0          # nothing taken for this long after the last item: a hang

async def producer(queue):
    for item in range(ITEMS):
        await asyncio.sleep(PRODUCE_MS / 1000 * TIME_SCALE)   # make the item
        await queue.put(item)           # waits while the queue is full
    for _ in range(1 if ONE_SENTINEL else CONSUMERS):
        await queue.put(None)           # one stop sentinel PER consumer (one alone: gather hangs)

async def consumer(name, queue, taken):
    while (item := await queue.get()) is not None:
        await asyncio.sleep(CONSUME_MS / 1000 * TIME_SCALE)   # handle the item
        taken.append((name, item))

async def main():
    queue = asyncio.Queue(maxsize=MAX_SIZE)
    taken = []
    consumers = [asyncio.create_task(consumer(f"consumer {i}", queue, taken)) for i in range(1, CONSUMERS + 1)]
    await producer(queue)
    # The tutorial awaits gather(producer, *consumers), which never returns when a consumer never
    # gets a sentinel; this watchdog ends such consumers and says so instead.
    while True:
        seen = len(taken)
        _, waiting = await asyncio.wait(consumers, timeout=WATCHDOG_S)
        if not waiting:
            break
        if len(taken) == seen == ITEMS and queue.empty():
            for task in waiting:
                task.cancel()
            print("consumers that waited forever on an empty queue:", len(waiting))
            break
    assert sorted(item for _, item in taken) == list(range(ITEMS))
    print("handled", len(taken), "items")

if __name__ == "__main__":
    asyncio.run(main())
