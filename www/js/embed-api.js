// The postMessage API of an embedded topic, so a course page can drive it:
//   iframe.contentWindow.postMessage({type: 'run', topic, params, requestId}, '*')
// answers {type: 'result', requestId, topic, status, modes, speedup, values, lanes, checks}
// or {type: 'error', requestId, message, errors}. On load it posts {type: 'ready', topics}.
// A file parameter may be passed as [{name, data}] with data in base64 (never through the URL);
// the result's params list the files as {name, size}, without their bytes.

/** Short, serializable summary of a report for the parent page. */
export function summarize(report) {
  const ok = report.modes.filter((m) => m.status === 'ok');
  return {
    topic: report.topic,
    status: report.status,
    params: report.params,
    wallMs: report.wall_ms,
    modes: report.modes.map((m) => ({ id: m.id, label: m.label, status: m.status, wallMs: m.wall_ms, speedup: m.speedup, result: m.result, lanes: m.lanes, note: m.note })),
    speedup: Math.max(0, ...ok.map((m) => m.speedup ?? 0)),
    lanes: Math.max(0, ...report.modes.map((m) => m.lanes)),
    values: report.values,
    checks: report.checks,
  };
}

/**
 * @param {(topic: string, params: Record<string, any>) => Promise<{report?: any, message?: string, errors?: any[]}>} runTopic
 * @param {string[]} topics
 */
export function listen(runTopic, topics) {
  if (window.parent === window) return;
  window.parent.postMessage({ type: 'ready', topics }, '*');
  window.addEventListener('message', async (event) => {
    const data = event.data;
    if (!data || typeof data !== 'object' || data.type !== 'run') return;
    const reply = (message) => /** @type {Window} */ (event.source)?.postMessage({ ...message, requestId: data.requestId }, { targetOrigin: event.origin === 'null' ? '*' : event.origin });
    if (typeof data.topic !== 'string' || !topics.includes(data.topic)) {
      reply({ type: 'error', message: `Unknown topic: ${String(data.topic).slice(0, 40)}`, errors: [] });
      return;
    }
    const params = data.params && typeof data.params === 'object' ? data.params : {};
    const outcome = await runTopic(data.topic, params);
    if (outcome.report) reply({ type: 'result', ...summarize(outcome.report) });
    else reply({ type: 'error', message: outcome.message ?? 'The run did not finish.', errors: outcome.errors ?? [] });
  });
}
