import threading, time

WAIT_MS = 2000            # each thread's wait
NUMBERS = 5               # numbers to print
GAP_MS = 400              # pause between prints
TIME_SCALE = 0.25         # 1 restores the original waits

def task(name, seconds):
    print(f"{name}: starting")
    time.sleep(seconds)               # waiting lets the other thread run
    print(f"{name}: done after {seconds} s")

def print_numbers(n):
    for i in range(1, n + 1):
        print("number", i)
        time.sleep(GAP_MS / 1000 * TIME_SCALE)

if __name__ == "__main__":
    seconds = WAIT_MS / 1000 * TIME_SCALE
    start = time.perf_counter()
    a = threading.Thread(target=task, args=("thread A", seconds))
    b = threading.Thread(target=task, args=("thread B", seconds))
    a.start(); b.start()                  # both run from here on
    a.join(); b.join()                    # wait for both to finish
    print(f"both done in {time.perf_counter() - start:.2f} s")   # ~ one wait, not two

    t = threading.Thread(target=print_numbers, args=(NUMBERS,))
    t.start()
    for letter in "abcdefghijklmnopqrstuvwxyz"[:NUMBERS]:
        print("letter", letter)           # interleaves with the numbers
        time.sleep(GAP_MS / 1000 * TIME_SCALE)
    t.join()
