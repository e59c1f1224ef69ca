import random, threading, time
from concurrent.futures import ThreadPoolExecutor, as_completed

QUERIES = 5
POOL = 3                  # threads
DURATION_MS = 500         # each query takes about this
JITTER_PCT = 60           # random spread of durations
FAIL = 2                  # the query that fails (0: none)
SEED = 7
TIME_SCALE = 0.5

def query(k):
    spread = JITTER_PCT / 100
    time.sleep(DURATION_MS / 1000 * TIME_SCALE * random.uniform(1 - spread, 1 + spread))
    if k == FAIL:
        raise ConnectionError(f"query {k}: connection reset")
    return f"query {k}: {k * 7} rows"

if __name__ == "__main__":
    random.seed(SEED)
    with ThreadPoolExecutor(max_workers=POOL) as pool:
        futures = {pool.submit(query, k): k for k in range(1, QUERIES + 1)}
        for f in as_completed(futures):                  # in completion order
            try:
                print(f.result())
            except ConnectionError as e:
                print("failed:", e)

        futures = [pool.submit(query, k) for k in range(1, QUERIES + 1)]
        for f in futures:                                # in submission order, like map
            try:
                print(f.result())
            except ConnectionError as e:
                print("failed:", e)

    # No pool: a bare thread per query. Its target's return value is dropped, so answers go to a list.
    answers, hooked = [], []
    def hook(args):                                      # runs on the thread that raised
        hooked.append(args.exc_value)
        print(f"excepthook: {args.thread.name} raised {args.exc_value!r}")
    threading.excepthook = hook                          # the default prints the traceback to stderr
    def target(k):
        answers.append(query(k))                         # query 2 raises: this thread ends here
    bare = [threading.Thread(target=target, args=(k,), name=f"query {k}") for k in range(1, QUERIES + 1)]
    for t in bare: t.start()
    for t in bare: t.join()                              # returns normally, even for the thread that raised
    print("bare threads:", len(answers), "answers,", len(hooked), "exception(s) seen only by the hook")
