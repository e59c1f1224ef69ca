// The drop-in helper for course pages: one script tag, and each placeholder becomes an embedded
// playground topic that fits its content's height and that the page's own script can drive.
//
//   <script src="https://HOST/PATH/embed.js" defer></script>
//   <div data-concurrency-topic="gil" data-params='{"limit": 3000000}'></div>
//   <concurrency-playground topic="race" theme="dark" compact></concurrency-playground>
//
// Options, as data-* attributes on a div or plain attributes on the element: params (JSON),
// panels, theme, compact, autorun (the embed's display options), height (before the first
// report, in pixels), title. Each placeholder gets methods that return promises, run(params?,
// topic?) resolving to the 'result' or 'stopped' message, stop(), setParams(params, topic?) and
// getState() resolving to a 'state' message (an 'error' rejects, as an Error with the message as
// `detail`), and fires the embed's messages as DOM events: 'playground:ready',
// 'playground:started', 'playground:progress', 'playground:result', 'playground:stopped',
// 'playground:error', 'playground:state', 'playground:resize', and from "Be the scheduler"
// 'playground:schedule-step', 'playground:goal-reached', 'playground:search-result' (the message is `event.detail`).
// Every promise settles: a request its iframe can no longer answer rejects, because the iframe was
// removed from the page (a request made while it is out of the page rejects at once), its
// document was replaced by a navigation (requests made after that wait for the new one), or it
// never said ready within READY_WAIT_MS of the request (a wrong address, a host that refuses to be framed).
// Only this page's origin may drive the iframes it makes (their URL says origin=).
(() => {
  const script = /** @type {HTMLScriptElement | null} */ (document.currentScript);
  if (!script)
    throw new Error(
      'embed.js must be loaded by a classic <script src> tag (not a module or an inline copy): it finds the playground from its own address.',
    );
  const EMBED_URL = new URL('embed.html', script.src);
  const ELEMENT = 'concurrency-playground';
  const DISPLAY = ['panels', 'theme', 'compact', 'autorun', 'prompt'];
  const ANSWERS = ['result', 'stopped', 'error', 'state'];
  // How long a request waits for an embed that has not said ready: starting it loads the engine,
  // seconds on a slow connection, so a minute means it will not start.
  const READY_WAIT_MS = 60_000;
  /**
   * A mounted placeholder's handle (also its methods).
   * @typedef {Record<string, unknown>} Message a message of the embed API (the README's table)
   * @typedef {{iframe: HTMLIFrameElement, run: (params?: object, topic?: string | null) => Promise<Message>, stop: () => Promise<Message>,
   *   setParams: (values: object, topic?: string) => Promise<Message>, getState: () => Promise<Message>}} Playground
   * @typedef {Element & {playground?: Playground}} Placeholder
   */
  /**
   * Each iframe, what handles its messages (any: what the embed posted, checked there), and what
   * it does when it leaves or rejoins the page. A removed one stays here, so that putting it back works.
   * @type {Map<HTMLIFrameElement, {handle: (message: any) => void, placed: (inPage: boolean) => void}>}
   */
  const frames = new Map();
  let nextId = 1;

  window.addEventListener('message', (event) => {
    if (event.origin !== EMBED_URL.origin || !event.source) return;
    for (const [iframe, { handle }] of frames) if (iframe.contentWindow === event.source) handle(event.data);
  });
  // An iframe taken out of the page loses its document: what waited on it must hear so.
  const placement = new MutationObserver(() => {
    for (const [iframe, { placed }] of frames) placed(iframe.isConnected);
  });
  placement.observe(document, { childList: true, subtree: true });

  /**
   * An option of a placeholder: `data-NAME` on a div, `NAME` on the element.
   * @param {Element} host
   * @param {string} name
   */
  function option(host, name) {
    return host.getAttribute(host.localName === ELEMENT ? name : `data-${name}`);
  }

  /**
   * Turns one placeholder into an embedded topic (once).
   * @param {Placeholder} host
   * @returns {Playground}
   */
  function mount(host) {
    if (host.playground) return host.playground;
    const topic = host.localName === ELEMENT ? option(host, 'topic') : host.getAttribute('data-concurrency-topic');
    const src = new URL(EMBED_URL);
    if (topic) src.searchParams.set('topic', topic);
    const problems = [];
    /** @type {unknown} JSON from the page's markup, checked below */
    let params = {};
    try {
      params = JSON.parse(option(host, 'params') ?? '{}');
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error('not an object');
    } catch (error) {
      problems.push(
        `params must be a JSON object of names and values (${/** @type {Error} */ (error).message}); the topic's defaults are used.`,
      );
      params = {};
    }
    for (const [name, value] of Object.entries(/** @type {object} */ (params)))
      src.searchParams.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    for (const name of DISPLAY) {
      const value = option(host, name);
      if (value !== null) src.searchParams.set(name, value);
    }
    if (window.location.origin !== 'null') src.searchParams.set('origin', window.location.origin);

    const iframe = document.createElement('iframe');
    iframe.src = src.href;
    iframe.title = option(host, 'title') ?? `Concurrency Playground: ${topic ?? 'topics'}`;
    iframe.loading = 'lazy';
    // Threads when the course page is isolated too (or the browser isolates the embed alone).
    iframe.allow = 'cross-origin-isolated';
    iframe.style.cssText = 'display: block; width: 100%; border: 0;';
    iframe.style.height = `${Number(option(host, 'height')) || 600}px`;
    host.replaceChildren(iframe);
    for (const problem of problems) {
      const note = document.createElement('p');
      note.textContent = `Concurrency Playground: ${problem}`;
      host.append(note);
    }

    let ready = false;
    /** Whether the iframe has been in the page (it may be mounted before it is), and has left it since. */
    let inPage = false;
    let removed = false;
    /** @type {{requestId: string}[]} commands sent before the embed was ready */
    const queued = [];
    // The requests waiting for their answer. Not engine/requests.js, which the page's other request
    // and answer pairs share: this classic script cannot `import` it, an `import()` of it from the
    // course page's origin is a CORS request that the playground's hosts do not answer (tools/headers.mjs
    // sends no Access-Control-Allow-Origin), and a build step inlining it would make the file the
    // course pages link a generated one. Its needs differ too: an answer rejects when it is an
    // 'error' (the helper's API), a request waits unsent until the embed says ready, a navigation
    // settles only those sent, and no answer times out (a run answers when it ends, however long): only the wait for ready does.
    /** @type {Map<string, {resolve: (m: any) => void, reject: (e: Error) => void, sent: boolean}>} */
    const waiting = new Map();
    /** @type {ReturnType<typeof setTimeout> | undefined} gives up on the queued requests */
    let readyWait;
    const fire = (/** @type {string} */ type, /** @type {Message} */ detail) =>
      host.dispatchEvent(new CustomEvent(`playground:${type}`, { detail }));
    /** @param {string} requestId @param {string} why */
    const refusal = (requestId, why) =>
      Object.assign(new Error(why), { detail: { type: 'error', requestId, message: why, errors: [] } });
    /**
     * Rejects the requests the embed's document had been sent (it is gone), or with `all`, the
     * queued ones too (the iframe is).
     * @param {string} why
     */
    const abandon = (why, all = false) => {
      for (const [requestId, request] of waiting) {
        if (!all && !request.sent) continue;
        waiting.delete(requestId);
        request.reject(refusal(requestId, why));
      }
      if (all) queued.length = 0;
    };
    // A load once the embed has said ready is another document (a link followed inside it, or a
    // new src): it never answers what the last one was sent. The new one says ready after its own
    // load (it starts the engine first), and gets what is asked meanwhile.
    iframe.addEventListener('load', () => {
      if (!ready) return;
      ready = false;
      abandon('The playground embed was navigated to another page before it answered: send the request again.');
    });

    /** @param {boolean} now whether the iframe is in the page now */
    const placed = (now) => {
      if (now) {
        inPage = true;
        removed = false;
      } else if (inPage && !removed) {
        removed = true;
        ready = false; // put back, it loads again and says ready again
        abandon('The playground embed was removed from the page before it answered.', true);
      }
    };
    frames.set(iframe, {
      placed,
      handle(message) {
        if (!message || typeof message.type !== 'string') return; // lti.frameResize is for LMSs
        if (message.type === 'ready') {
          ready = true;
          clearTimeout(readyWait);
          readyWait = undefined;
          if (message.topic?.title)
            iframe.title = option(host, 'title') ?? `${message.topic.title} (Concurrency Playground)`;
          for (const command of queued.splice(0)) {
            const request = waiting.get(command.requestId);
            if (request) request.sent = true;
            iframe.contentWindow?.postMessage(command, EMBED_URL.origin);
          }
        }
        if (message.type === 'resize' && Number.isFinite(message.height)) iframe.style.height = `${message.height}px`;
        const request = ANSWERS.includes(message.type) ? waiting.get(message.requestId) : undefined;
        if (request) {
          waiting.delete(message.requestId);
          if (message.type === 'error') request.reject(Object.assign(new Error(message.message), { detail: message }));
          else request.resolve(message);
        }
        fire(message.type, message);
      },
    });
    placed(iframe.isConnected);

    /**
     * Sends a command (when the embed is ready) and resolves to its answer.
     * @param {Message} command
     * @returns {Promise<Message>}
     */
    function send(command) {
      const requestId = `embed-${nextId++}`;
      const message = { ...command, requestId };
      placed(iframe.isConnected); // removed just now: the observer has not said so yet
      if (removed)
        return Promise.reject(
          refusal(
            requestId,
            'The playground embed is not in the page (it was removed): put it back, or mount a new one.',
          ),
        );
      return new Promise((resolve, reject) => {
        waiting.set(requestId, { resolve, reject, sent: ready });
        if (ready) iframe.contentWindow?.postMessage(message, EMBED_URL.origin);
        else {
          queued.push(message);
          iframe.loading = 'eager'; // a command for an iframe still off screen loads it now
          readyWait ??= setTimeout(() => {
            readyWait = undefined;
            abandon(
              `The playground embed did not start within ${READY_WAIT_MS / 1000} s (it never said it was ready): check the address embed.js was loaded from, and that its host lets this site frame it.`,
              true,
            );
          }, READY_WAIT_MS);
        }
      });
    }

    /** @type {Playground} */
    const playground = {
      iframe,
      run: (runParams = {}, runTopic = topic) => send({ type: 'run', topic: runTopic, params: runParams }),
      stop: () => send({ type: 'stop' }),
      setParams: (values, valuesTopic) => send({ type: 'setParams', topic: valuesTopic, params: values }),
      getState: () => send({ type: 'getState' }),
    };
    host.playground = playground;
    Object.assign(host, {
      run: playground.run,
      stop: playground.stop,
      setParams: playground.setParams,
      getState: playground.getState,
    });
    return playground;
  }

  /** Mounts every placeholder in `root` not mounted yet (pages that add some later call it again). */
  function mountAll(root = document) {
    for (const host of root.querySelectorAll('[data-concurrency-topic]')) mount(host);
  }

  if (window.customElements && !customElements.get(ELEMENT)) {
    customElements.define(
      ELEMENT,
      class extends HTMLElement {
        connectedCallback() {
          mount(this);
        }
      },
    );
  }
  /** @type {any} */ (window).ConcurrencyPlayground = { mount, mountAll, embedUrl: EMBED_URL.href };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => mountAll());
  else mountAll();
})();
