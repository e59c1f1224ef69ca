import random, threading, time

THREADS = 4               # per scenario
PERMITS = 2               # semaphore: at most N inside
HOLD_MS = 400             # time spent inside / working
TIME_SCALE = 0.5

HOLD = HOLD_MS / 1000 * TIME_SCALE

# Semaphore: at most PERMITS threads inside.
sem = threading.Semaphore(PERMITS)
inside, most_inside = 0, 0
def limited(i):
    global inside, most_inside
    with sem:
        inside += 1; most_inside = max(most_inside, inside)
        time.sleep(HOLD)
        inside -= 1

# Condition: wait until the soup is ready.
cond, soup = threading.Condition(), None
def cook():
    global soup
    time.sleep(HOLD)
    with cond:
        soup = "tomato soup"
        cond.notify_all()
def guest(i):
    with cond:
        while soup is None:          # always re-check after waking
            cond.wait()
        print(f"guest {i} eats {soup}")

# Barrier: nobody starts phase 2 before everyone finished phase 1.
barrier = threading.Barrier(THREADS)
def party(i):
    for phase in (1, 2):
        time.sleep(random.uniform(0.25, 1) * HOLD)
        barrier.wait()

# Event: runners wait for the starting signal; a ticker runs until told to stop.
go, finished = threading.Event(), threading.Event()
def runner(i):
    go.wait()
    time.sleep(random.uniform(0.25, 0.5) * HOLD)
def ticker():
    while not finished.wait(HOLD / 4):  # True once set; False after each timeout
        print("tick")

if __name__ == "__main__":
    for scenario in ([limited] * THREADS, [cook] + [guest] * (THREADS - 1), [party] * THREADS):
        threads = [threading.Thread(target=f, args=() if f is cook else (i,)) for i, f in enumerate(scenario)]
        for t in threads: t.start()
        for t in threads: t.join()
    print("at most", most_inside, "inside the semaphore")

    runners = [threading.Thread(target=runner, args=(i,)) for i in range(THREADS)]
    tick = threading.Thread(target=ticker)
    for t in runners + [tick]: t.start()
    time.sleep(HOLD); go.set()
    for t in runners: t.join()
    finished.set(); tick.join()
    print("done")
