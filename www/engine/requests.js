// Requests and their answers over postMessage: one id per request, the requests still waiting,
// an answer matched to its request by id and taken once, an optional timeout, and every waiting
// request settled when the other side goes away (a crash, a worker replaced or lost). Used by
// the engine client (engine-client.js) and the isolated workers' pool (isolated-pool.js); the
// worker shim (worker-host.js) and the course pages' helper (embed.js) say why they do not.

/**
 * @template A what an answer is
 * @template D what the sender keeps beside a request (its progress, when it was sent)
 * @typedef {{resolve: (answer: A) => void, data: D, timer: ReturnType<typeof setTimeout> | undefined}} Waiting
 */

/**
 * @template A what an answer is
 * @template D what the sender keeps beside a request
 */
export class Requests {
  constructor() {
    this.nextId = 1;
    /** @type {Map<number, Waiting<A, D>>} */
    this.waiting = new Map();
  }

  /**
   * Opens a request: `send(id)` posts it (at once); the promise resolves to its answer, or to
   * `timedOut()` after `timeoutMs`, or to what `settleAll` gives it.
   * @param {(id: number) => void} send
   * @param {D} data
   * @param {{timeoutMs?: number, timedOut?: () => A}} [options]
   * @returns {{id: number, answer: Promise<A>}}
   */
  open(send, data, { timeoutMs, timedOut } = {}) {
    const id = this.nextId++;
    /** @type {(answer: A) => void} */
    let resolve = () => {};
    /** @type {Promise<A>} */
    const answer = new Promise((settle) => (resolve = settle));
    const timer =
      timeoutMs !== undefined && timedOut ? setTimeout(() => this.answer(id, timedOut()), timeoutMs) : undefined;
    this.waiting.set(id, { resolve, data, timer });
    send(id);
    return { id, answer };
  }

  /**
   * What the sender kept beside request `id`, while it waits.
   * @param {number} id
   */
  data(id) {
    return this.waiting.get(id)?.data;
  }

  /**
   * Answers request `id` (once: a later answer, or one for no request, is ignored).
   * @param {number} id
   * @param {A} answer
   * @returns {boolean} whether a request was waiting for it
   */
  answer(id, answer) {
    const request = this.waiting.get(id);
    if (!request) return false;
    this.waiting.delete(id);
    clearTimeout(request.timer);
    request.resolve(answer);
    return true;
  }

  /**
   * The other side went away: every waiting request gets `answerFor` its data, now.
   * @param {(data: D, id: number) => A} answerFor
   */
  settleAll(answerFor) {
    for (const [id, request] of [...this.waiting]) this.answer(id, answerFor(request.data, id));
  }

  /** How many requests wait. */
  get size() {
    return this.waiting.size;
  }

  /** @returns {IterableIterator<[number, D]>} the waiting requests' ids and data */
  *entries() {
    for (const [id, request] of this.waiting) yield [id, request.data];
  }
}
