from concurrent.futures import ProcessPoolExecutor

POWERS = "2^31, 5^20, 10^10, 3^15"
SQUARES = 5               # squares of 1..N
FAILING = True            # add a call that overflows (10^19)
WORKERS = 2

def power(base, exp):
    result = base ** exp
    if result >= 2 ** 63:                       # Python ints never overflow: mimic 64-bit ones
        raise OverflowError(f"{base}^{exp} does not fit in 64 bits")
    return result

def square(n):
    return n * n

if __name__ == "__main__":
    pairs = [tuple(map(int, p.split("^"))) for p in POWERS.split(",")] + ([(10, 19)] if FAILING else [])
    with ProcessPoolExecutor(max_workers=WORKERS) as executor:
        futures = [executor.submit(power, b, e) for b, e in pairs]
        for (b, e), future in zip(pairs, futures):      # input order
            try:
                print(f"{b}^{e} = {future.result()}")
            except OverflowError as error:              # raised in the worker, re-raised here
                print(f"{b}^{e} failed: {error}")
        print(list(executor.map(square, range(1, SQUARES + 1))))  # [1, 4, 9, 16, 25]
