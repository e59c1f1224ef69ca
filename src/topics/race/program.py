import threading, time

BALANCE = 1000            # starting balance
THREADS = 10
WITHDRAWALS = 100         # per thread, 1 each
PAUSE_MS = 1.0            # between the read and the write

balance = BALANCE
lock = threading.Lock()

def withdraw_unsafe(times):
    global balance
    for _ in range(times):
        seen = balance          # read
        time.sleep(PAUSE_MS / 1000)   # another thread may read the same value now
        balance = seen - 1      # write back: may overwrite someone else's withdrawal

def withdraw_safe(times):
    global balance
    for _ in range(times):
        with lock:              # one thread at a time inside
            seen = balance
            time.sleep(PAUSE_MS / 1000)
            balance = seen - 1

if __name__ == "__main__":
    for target in (withdraw_unsafe, withdraw_safe):
        balance = BALANCE
        threads = [threading.Thread(target=target, args=(WITHDRAWALS,)) for _ in range(THREADS)]
        for t in threads: t.start()
        for t in threads: t.join()
        lost = balance - (BALANCE - THREADS * WITHDRAWALS)
        print(target.__name__, "final", balance, "lost updates", lost)
