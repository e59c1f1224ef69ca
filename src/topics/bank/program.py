import random, threading, time

BALANCE = 100             # starting balance (the tutorial started at 1000)
THREADS = 3
TRANSACTIONS = 5          # per thread
MIN_AMOUNT, MAX_AMOUNT = 10, 100
SEED = 42
THINK_MS = 200            # longest pause before a transaction
HOLD_MS = 20              # time inside the lock

balance = BALANCE
lock = threading.Lock()
ledger = []

def customer(name, rng):
    global balance
    for _ in range(TRANSACTIONS):
        kind, amount = rng.choice(["deposit", "withdraw"]), rng.randint(MIN_AMOUNT, MAX_AMOUNT)
        time.sleep(rng.random() * THINK_MS / 1000)
        with lock:                             # check and update as one step
            time.sleep(HOLD_MS / 1000)
            if kind == "deposit":
                balance += amount; ok = True
            elif amount <= balance:
                balance -= amount; ok = True
            else:
                ok = False                     # overdraft refused
            ledger.append((name, kind, amount, ok, balance))

if __name__ == "__main__":
    # Python's generator is not the page's: the same seed draws other transactions than on the page
    rngs = [random.Random(SEED + i) for i in range(THREADS)]
    threads = [threading.Thread(target=customer, args=(f"thread {i+1}", r)) for i, r in enumerate(rngs)]
    for t in threads: t.start()
    for t in threads: t.join()
    for entry in ledger:
        print(*entry)
    deposits = sum(a for _, k, a, ok, _ in ledger if k == "deposit")
    taken = sum(a for _, k, a, ok, _ in ledger if k == "withdraw" and ok)
    assert balance == BALANCE + deposits - taken and all(b >= 0 for *_, b in ledger)
    print("final", balance, "=", BALANCE, "+", deposits, "-", taken)
