import queue, random, threading, time

TIME_SCALE = 0.6          # multiplies every duration (1 = the original 0.5 s per print)
SENDERS = 4               # threads sending deposits and withdrawals at once
OPERATIONS = 8            # operations per sender
HANDLE_MS = 30            # the bank actor's time per message (times the time scale)
BALANCE = 100             # opening balance
SEED = 0                  # 0 draws new amounts every run

class PrinterActor:
    """The tutorial's actor: a mailbox and a thread that handles one message at a time."""
    def __init__(self, use_pill):
        self.mailbox, self.running, self.use_pill = queue.Queue(), True, use_pill
        self.printed = []
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def send(self, message):
        self.mailbox.put(message)

    def _run(self):
        while self.running:
            try:
                message = self.mailbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if message is None:          # the poison pill
                break
            time.sleep(0.5 * TIME_SCALE)
            print("Printing:", message)
            self.printed.append(message)

    def stop(self):
        if self.use_pill:
            self.mailbox.put(None)       # behind every message already sent
        else:
            self.running = False         # at once: what is still queued is lost
        self.thread.join()

class BankAccount(threading.Thread):
    """Owns its balance; only its own thread ever touches it, so no lock."""
    def __init__(self, balance):
        super().__init__()
        self.balance, self.mailbox = balance, queue.Queue()

    def run(self):
        while True:
            op, amount, reply = self.mailbox.get()
            if op == "stop":
                break
            time.sleep(HANDLE_MS / 1000 * TIME_SCALE)
            if op == "deposit":
                self.balance += amount
            elif amount <= self.balance:
                self.balance -= amount
            else:
                reply.put((False, self.balance)); continue
            reply.put((True, self.balance))

    def ask(self, op, amount):
        reply = queue.Queue(maxsize=1)
        self.mailbox.put((op, amount, reply))
        return reply.get()

def sender(account, ops, accepted):
    for _ in range(ops):
        op, amount = random.choice(["deposit", "withdraw"]), random.randint(1, 50)
        ok, _ = account.ask(op, amount)
        if ok:
            accepted.append(amount if op == "deposit" else -amount)
        time.sleep(random.uniform(0, 0.03) * TIME_SCALE)

if __name__ == "__main__":
    random.seed(SEED or None)
    for use_pill in (False, True):
        printer = PrinterActor(use_pill)
        for i in (1, 2, 3):
            printer.send(f"message {i}")
        time.sleep(0.02)
        printer.stop()
        lost = printer.mailbox.qsize()           # still in the mailbox: never printed
        print("poison-pill" if use_pill else "stop-flag", "printed", len(printer.printed), "lost", lost)

    account, accepted = BankAccount(BALANCE), []
    account.start()
    senders = [threading.Thread(target=sender, args=(account, OPERATIONS, accepted)) for _ in range(SENDERS)]
    for s in senders: s.start()
    for s in senders: s.join()
    _, balance = account.ask("deposit", 0)
    account.mailbox.put(("stop", 0, None))
    account.join()
    assert balance == BALANCE + sum(accepted)
    print("final balance", balance)
