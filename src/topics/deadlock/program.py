import random, threading, time

THREADS = 2               # each needs two locks
ROUNDS = 3                # transfers per thread
HOLD_MS = 100             # work while holding the first lock
WORK_MS = 50              # work while holding both
WATCHDOG_MS = 600
TRY_MS = 50               # try-lock timeout
BACKOFF_MS = 100          # longest random back-off
TIME_SCALE = 0.5

def ms(n):
    return n / 1000 * TIME_SCALE

locks = [threading.Lock() for _ in range(THREADS)]
done = []

def transfer(first, second, name):
    for _ in range(ROUNDS):
        with first:
            time.sleep(ms(HOLD_MS))     # the other thread takes its first lock meanwhile
            with second:                # deadlock: each waits for the other's lock forever
                time.sleep(ms(WORK_MS))
                done.append(name)

# Fix 1: one global order: every thread takes the lower-numbered lock first.
def transfer_ordered(first, second, name):
    low, high = sorted((first, second), key=locks.index)
    transfer(low, high, name)

# Fix 2: try the second lock with a timeout; on failure let go and back off.
def transfer_trylock(first, second, name):
    for _ in range(ROUNDS):
        while True:
            with first:
                time.sleep(ms(HOLD_MS))
                if second.acquire(timeout=ms(TRY_MS)):
                    try:
                        time.sleep(ms(WORK_MS)); done.append(name); break
                    finally:
                        second.release()
            time.sleep(random.uniform(0, ms(BACKOFF_MS)))   # back off, then retry

def run(target):
    done.clear()
    # thread k takes lock k, then lock k+1: around the circle, each waits for the next one's lock
    threads = [threading.Thread(target=target, args=(locks[k], locks[(k + 1) % THREADS], f"thread {k+1}"),
                                daemon=True) for k in range(THREADS)]
    for t in threads: t.start()
    deadline = time.perf_counter() + WATCHDOG_MS / 1000   # the watchdog
    for t in threads: t.join(timeout=max(0, deadline - time.perf_counter()))
    stuck = sum(t.is_alive() for t in threads)
    print(target.__name__, "deadlocked" if stuck else "finished", f"({len(done)} transfers)")
    return stuck

if __name__ == "__main__":
    assert run(transfer) > 0           # Python cannot cancel them: daemon threads die with the program
    locks[:] = [threading.Lock() for _ in range(THREADS)]
    WATCHDOG_MS *= 20                  # the fixed versions only need time
    assert run(transfer_ordered) == 0
    assert run(transfer_trylock) == 0
