import os, time
from multiprocessing import Process, Queue

WORKERS = 4
LIMIT = 1_000_000         # each sums i*i below this

def work(task, limit, answers):
    total = sum(i * i for i in range(limit))
    answers.put((task, os.getpid(), total))      # the answer travels back as a message

if __name__ == "__main__":
    start = time.perf_counter()
    sequential = [sum(i * i for i in range(LIMIT)) for _ in range(WORKERS)]
    print("sequential", time.perf_counter() - start)

    start = time.perf_counter()
    answers = Queue()
    procs = [Process(target=work, args=(k, LIMIT, answers)) for k in range(WORKERS)]
    for p in procs: p.start()                    # a new interpreter (spawn, forkserver) or a copy (fork)
    results = sorted(answers.get() for _ in procs)
    for p in procs: p.join()
    print("processes", time.perf_counter() - start)
    for task, pid, total in results:
        print(f"task {task} ran in process {pid}: {total}")
    assert [total for _, _, total in results] == sequential
