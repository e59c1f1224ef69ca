import asyncio

ITEMS = 6
BUFFER = 2                # items a stage may run ahead of the next one
GENERATE_MS = 100
SQUARE_MS = 300
TIME_SCALE = 0.5

async def generate(n):                       # stage 1: an async generator
    for i in range(1, n + 1):
        await asyncio.sleep(GENERATE_MS / 1000 * TIME_SCALE)
        yield i

async def square(numbers):                   # stage 2: the slow one
    async for i in numbers:
        await asyncio.sleep(SQUARE_MS / 1000 * TIME_SCALE)
        yield i * i

# Chained generators alone run one item at a time (each waits to be asked); a bounded queue lets
# a stage run up to BUFFER items ahead and then wait for the next one: backpressure.
async def buffered(stream, size):
    queue = asyncio.Queue(maxsize=size)
    async def fill():
        async for item in stream:
            await queue.put(item)            # waits while the buffer is full
        await queue.put(None)
    filler = asyncio.create_task(fill())
    while (item := await queue.get()) is not None:
        yield item
    await filler

async def main():
    squares = []
    async for x in square(buffered(generate(ITEMS), BUFFER)):   # stage 3: print
        print(x)
        squares.append(x)
    print("sum", sum(squares))

if __name__ == "__main__":
    asyncio.run(main())
