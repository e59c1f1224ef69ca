import threading, time

THREADS = 4               # N
INCREMENTS = 200_000      # M, per thread, sized for CPython (the page's run: 2_000_000)

counter = 0
lock = threading.Lock()

def unsafe_add():
    global counter
    for _ in range(INCREMENTS):
        counter += 1            # load, add, store: not atomic

def locked_add():
    global counter
    for _ in range(INCREMENTS):
        with lock:
            counter += 1

if __name__ == "__main__":
    for work in (unsafe_add, locked_add):
        counter = 0
        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        start = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        seconds = time.perf_counter() - start
        print(work.__name__, counter, "of", THREADS * INCREMENTS, f"{THREADS * INCREMENTS / seconds:,.0f} increments/s")
    # CPython 3.10+ switches threads only at a few bytecodes, so unsafe_add often comes out right:
    # it is still a race (and the free-threaded build loses updates). No atomic integer in the stdlib.
