import asyncio, random

TASKS = 5
MIN_S, MAX_S = 0.2, 0.8   # shortest and longest task
MAIN_STEPS = 3
TIME_SCALE = 1.0
SEED = 7

background_tasks = set()
finished = []

async def job(i):
    await asyncio.sleep(random.uniform(MIN_S, MAX_S) * TIME_SCALE)
    print(f"task {i} done")
    finished.append(i)

async def main():
    for i in range(TASKS):
        task = asyncio.create_task(job(i))        # starts; main does not wait
        background_tasks.add(task)                # a strong reference keeps it alive
        task.add_done_callback(background_tasks.discard)   # ...until it is done
    for step in range(MAIN_STEPS):
        print("main flow, step", step)            # runs at once
        await asyncio.sleep(0.02 * TIME_SCALE)
    print("main flow finished;", len(background_tasks), "tasks still running")
    while background_tasks:                       # do not exit before they end
        await asyncio.gather(*background_tasks)
    print("finished", len(finished))

if __name__ == "__main__":
    random.seed(SEED)
    asyncio.run(main())
