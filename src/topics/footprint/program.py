import statistics, threading, time
from multiprocessing import Process, Pipe

SAMPLES = 5               # repetitions
PAYLOAD_KB = 1024         # the large message

def nothing(): pass

def echo(conn):
    while (msg := conn.recv()) is not None:
        conn.send(msg)

def median_ms(start_one):
    times = []
    for _ in range(SAMPLES):
        start = time.perf_counter(); start_one(); times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)             # the page shows the median too

def one_thread():
    t = threading.Thread(target=nothing); t.start(); t.join()

def one_process():
    p = Process(target=nothing); p.start(); p.join()     # a new interpreter (spawn, forkserver) or a copy (fork)

if __name__ == "__main__":                               # a spawned child re-imports this file
    print("one more thread:", median_ms(one_thread), "ms")
    print("one more process:", median_ms(one_process), "ms")
    here, there = Pipe()
    p = Process(target=echo, args=(there,)); p.start()
    for payload in (b"x", b"x" * (PAYLOAD_KB * 1024)):
        start = time.perf_counter()
        here.send(payload); assert here.recv() == payload   # pickled, copied, unpickled, both ways
        print(len(payload), "bytes round trip:", (time.perf_counter() - start) * 1000, "ms")
    here.send(None); p.join()
