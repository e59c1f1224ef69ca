// The course page's own script: drives the embedded topic through the helper's methods and
// events (embed.js), and shows what it reports. Text only ever goes in as textContent.
const pool = /** @type {any} */ (document.getElementById('pool'));
const numbers = /** @type {HTMLInputElement} */ (document.getElementById('numbers'));
const progress = /** @type {HTMLProgressElement} */ (document.getElementById('progress'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const results = /** @type {HTMLElement} */ (document.querySelector('#results tbody'));

/** Every message the embed sent, for whoever wants to look (the browser tests do). */
window.events = [];
for (const type of ['ready', 'started', 'progress', 'result', 'stopped', 'error', 'resize']) {
  pool.addEventListener(`playground:${type}`, (/** @type {CustomEvent} */ event) => window.events.push(event.detail));
}

pool.addEventListener('playground:ready', (event) => {
  const { capabilities } = event.detail;
  status.textContent = capabilities.threads ? 'Ready, with threads.' : `Ready, without threads: ${capabilities.reason}`;
});
pool.addEventListener('playground:started', () => {
  progress.value = 0;
  status.textContent = 'Running…';
});
pool.addEventListener('playground:progress', (event) => {
  if (event.detail.fraction !== null) progress.value = event.detail.fraction;
});
// Runs the learner starts inside the embed are reported too (their requestId is null).
pool.addEventListener('playground:result', (event) => record(event.detail));
pool.addEventListener('playground:stopped', (event) => record(event.detail));

document.getElementById('run')?.addEventListener('click', async () => {
  try {
    await pool.run({ numbers: Number(numbers.value) });
  } catch (error) {
    status.textContent = `The playground refused: ${error.message}`;
  }
});
document.getElementById('stop')?.addEventListener('click', () => pool.stop());

const ENDED = { ok: 'Finished', stopped: 'Stopped', failed: 'Failed' };

function record(message) {
  if (message.status === 'ok') progress.value = 1;
  status.textContent = `${ENDED[message.status] ?? message.status} after ${Math.round(message.wallMs ?? 0)} ms.`;
  const row = document.createElement('tr');
  for (const text of [String(message.params?.numbers ?? ''), message.status, `${(message.speedup ?? 0).toFixed(2)}×`, `${Math.round(message.wallMs ?? 0)} ms`]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  results.append(row);
}
