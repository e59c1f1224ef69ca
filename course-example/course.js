// The course page's own script: drives the embedded topic through the helper's methods and
// events (embed.js), and shows what it reports. Text only ever goes in as textContent.
const pool = /** @type {any} */ (document.getElementById('pool'));
const numbers = /** @type {HTMLInputElement} */ (document.getElementById('numbers'));
const progress = /** @type {HTMLProgressElement} */ (document.getElementById('progress'));
const status = /** @type {HTMLElement} */ (document.getElementById('status'));
const results = /** @type {HTMLElement} */ (document.querySelector('#results tbody'));
const scores = /** @type {HTMLElement} */ (document.querySelector('#scores tbody'));
const score = /** @type {HTMLElement} */ (document.getElementById('score'));

/** Every message the embed sent, for whoever wants to look (the browser tests do). */
window.events = [];
for (const type of ['ready', 'started', 'progress', 'result', 'stopped', 'error', 'resize', 'prediction', 'outcome']) {
  pool.addEventListener(`playground:${type}`, (/** @type {CustomEvent} */ event) => window.events.push(event.detail));
}

// Predict, then run: every embedded topic sends 'prediction' (the answer, before the run) and
// 'outcome' (the answer beside the measurement), each carrying an xAPI-shaped statement. A course
// could forward the statements to its learning record store; this page keeps a score table.
/** Every statement the embeds sent, in order (the browser tests read it). */
window.statements = [];
const EXT = (/** @type {any} */ statement, /** @type {string} */ name) =>
  Object.entries(statement.result?.extensions ?? {}).find(([key]) => key.endsWith(`/xapi/${name}`))?.[1];
for (const host of document.querySelectorAll('[data-concurrency-topic], concurrency-playground')) {
  host.addEventListener('playground:prediction', (/** @type {any} */ event) =>
    window.statements.push(event.detail.statement),
  );
  host.addEventListener('playground:outcome', (/** @type {any} */ event) => {
    const { statement, topic } = event.detail;
    window.statements.push(statement);
    const row = document.createElement('tr');
    const success = statement.result.success;
    const verdict = success === undefined ? 'no prediction' : success ? 'right' : 'not this time';
    for (const text of [
      topic,
      statement.object.definition.description['en-US'],
      statement.result.response ?? '(none)',
      String(EXT(statement, 'shown') ?? ''),
      verdict,
    ]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    scores.append(row);
    const graded = window.statements.filter((s) => s.result?.success !== undefined);
    score.textContent = `${graded.filter((s) => s.result.success).length} of ${graded.length} right`;
  });
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
  for (const text of [
    String(message.params?.numbers ?? ''),
    message.status,
    `${(message.speedup ?? 0).toFixed(2)}×`,
    `${Math.round(message.wallMs ?? 0)} ms`,
  ]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  results.append(row);
}
