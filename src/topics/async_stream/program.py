import asyncio, json, random, time
import aiofiles                      # pip install aiofiles

RECORDS = 10
INTERVAL_MS = 100

async def records(n, interval):      # an async generator
    for seq in range(n):
        await asyncio.sleep(interval)
        yield {"seq": seq, "time": time.time(), "reading": random.random()}

class JsonLines:                     # an async context manager of our own
    def __init__(self, path):
        self.path, self.file = path, None

    async def __aenter__(self):      # runs at `async with`: open, and hand back the writer
        self.file = await aiofiles.open(self.path, "w")
        return self

    async def __aexit__(self, exc_type, exc, tb):   # runs on every way out: end, error, cancel
        await self.file.close()
        print("closed", "after an error" if exc_type else "")
        return False                 # do not swallow the exception

    async def write(self, record):
        await self.file.write(json.dumps(record) + "\n")

async def main():
    async with JsonLines("records.jsonl") as out:
        async for record in records(RECORDS, INTERVAL_MS / 1000):
            await out.write(record)
    async with aiofiles.open("records.jsonl") as f:
        lines = [json.loads(line) async for line in f]
    print("records", len(lines))

if __name__ == "__main__":
    asyncio.run(main())
