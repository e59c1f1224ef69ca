import sys, threading, time
from multiprocessing import Pool

LIMIT = 10_000_000        # sum i*i below this; sized for CPython (the page's run: 1_200_000_000; the tutorial: 5_000_000)
SWITCH_MS = 5.0           # how long a thread may keep the GIL when another one waits

def sum_squares(start, stop, step=1):  # a named function: Pool pickles it by name, a lambda cannot be pickled
    return sum(i * i for i in range(start, stop, step))

def work(half, out, k):
    out[k] = sum_squares(*half)

if __name__ == "__main__":   # Pool's children re-import this file (spawn, forkserver: Linux's default since 3.14)
    sys.setswitchinterval(SWITCH_MS / 1000)
    # False on the free-threaded build (python3.13t, 3.14t), where the threads below run at once
    print("GIL enabled:", getattr(sys, "_is_gil_enabled", lambda: True)())
    halves = [(0, LIMIT, 2), (1, LIMIT, 2)]   # the even numbers and the odd ones: the same work each

    start = time.perf_counter()
    single = sum_squares(0, LIMIT)
    print("single", time.perf_counter() - start)

    start = time.perf_counter(); out = [0, 0]
    threads = [threading.Thread(target=work, args=(half, out, k)) for k, half in enumerate(halves)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("threads", time.perf_counter() - start)   # with the GIL about the same as single; without, about half

    start = time.perf_counter()
    with Pool(2) as pool:
        parts = pool.starmap(sum_squares, halves)
    print("processes", time.perf_counter() - start)        # about half
    assert sum(out) == sum(parts) == single
    print("sum", single)
