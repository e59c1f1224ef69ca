import collections, queue, threading

THREADS = 4
OPERATIONS = 200_000      # increments per thread, sized for CPython (the page's run: 1_000_000)
ITEMS = 20_000            # appended by each thread; through the deque and the queue

def run(target, *args):
    threads = [threading.Thread(target=target, args=(t, *args)) for t in range(THREADS)]
    for t in threads: t.start()
    for t in threads: t.join()

count = 0
def plus_equals(t):
    global count
    for _ in range(OPERATIONS):
        count += 1            # read, add, write: another thread may write in between

lock = threading.Lock()
def locked(t):
    global count
    for _ in range(OPERATIONS):
        with lock:
            count += 1

shared = []
def append(t):
    for i in range(ITEMS):
        shared.append((t, i)) # one call: safe on a built-in list

def consume_deque(t, d, taken, errors, producing):
    while producing.is_set() or d:
        if d:                 # check...
            try:
                taken.append(d.popleft())   # ...then act: another thread may have emptied it
            except IndexError:
                errors.append(t)

def consume_queue(t, q, taken):
    while (item := q.get()) is not None:    # checks and takes under one lock, waits while empty
        taken.append(item)

if __name__ == "__main__":
    expected = THREADS * OPERATIONS
    run(plus_equals)
    print("plus-equals", count, "of", expected)   # under the GIL often all; free-threaded: fewer
    count = 0
    run(locked)
    print("locked", count, "of", expected)
    run(append)
    assert sorted(shared) == [(t, i) for t in range(THREADS) for i in range(ITEMS)]
    print("append", len(shared), "of", THREADS * ITEMS)

    d, taken, errors, producing = collections.deque(), [], [], threading.Event()
    producing.set()
    consumers = [threading.Thread(target=consume_deque, args=(t, d, taken, errors, producing)) for t in range(THREADS)]
    for c in consumers: c.start()
    for i in range(ITEMS):
        d.append(i)
    producing.clear()
    for c in consumers: c.join()
    assert sorted(taken) == list(range(ITEMS))    # popleft itself never loses or repeats an item
    print("deque", len(taken), "taken,", len(errors), "IndexErrors")

    q, taken = queue.Queue(), []
    consumers = [threading.Thread(target=consume_queue, args=(t, q, taken)) for t in range(THREADS)]
    for c in consumers: c.start()
    for i in range(ITEMS):
        q.put(i)
    for _ in consumers:
        q.put(None)           # one stop sentinel per consumer
    for c in consumers: c.join()
    assert sorted(taken) == list(range(ITEMS))
    print("queue", len(taken), "taken, no errors")
