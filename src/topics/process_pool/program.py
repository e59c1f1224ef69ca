import time
from multiprocessing import Pool

LO = 1000                 # primes in [LO, HI)
HI = 5000
RANGES = 4                # calls
WORKERS = 4

def is_prime(n):
    if n < 2: return False
    if n % 2 == 0: return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0: return False
        d += 2
    return True

def primes_in(lo, hi):                       # two arguments per call
    return [n for n in range(lo, hi) if is_prime(n)]

if __name__ == "__main__":
    step = -(-(HI - LO) // RANGES)            # 1000-2000, 2000-3000, ... for the defaults
    ranges = [(lo, min(lo + step, HI)) for lo in range(LO, HI, step)]
    start = time.perf_counter()
    sequential = [p for lo, hi in ranges for p in primes_in(lo, hi)]
    print("sequential", time.perf_counter() - start)

    start = time.perf_counter()
    with Pool(WORKERS) as pool:
        chunks = pool.starmap(primes_in, ranges)  # results in range order
    primes = [p for chunk in chunks for p in chunk]
    print("pool", time.perf_counter() - start)
    print(len(primes), "primes")                  # 501
    assert primes == sequential
