// A SCORM 1.2 package of one exercise: a topic with fixed parameters (and a prediction prompt),
// played from the hosted playground inside any LMS, with no server of its own. The package holds
// imsmanifest.xml, a launch page that embeds the playground (embed.html) and launch.js, which
// hears the embed's 'outcome' and 'result' messages and reports completion and the score through
// the LMS's SCORM 1.2 API (LMSInitialize, LMSSetValue, LMSCommit, LMSFinish). Used by the topic
// page's "For your LMS" download (exercise-builder.js) and by tools/package.mjs
// (`./build.sh package`): plain code, no DOM, no Node.

/**
 * What a package holds: the topic, its parameters as the embed's URL takes them, the prompt to
 * ask (null: all the topic's), the panels to show (null: all), and the playground's address.
 * @typedef {{topic: {id: string, title: string}, params: Record<string, string>, prompt: {id: string, question: string} | null, panels: string[] | null, playground: string}} Exercise
 * @typedef {{path: string, bytes: Uint8Array}} ZipEntry
 */

/** The package's name, e.g. `race-lost-updates-scorm12.zip`. @param {Exercise} exercise */
export function packageName(exercise) {
  return `${[exercise.topic.id, exercise.prompt?.id].filter(Boolean).join('-')}-scorm12.zip`;
}

/**
 * The package's files.
 * @param {Exercise} exercise
 * @returns {ZipEntry[]}
 */
export function packageFiles(exercise) {
  const text = new TextEncoder();
  return [
    { path: 'imsmanifest.xml', bytes: text.encode(manifest(exercise)) },
    { path: 'index.html', bytes: text.encode(launchPage(exercise)) },
    { path: 'launch.js', bytes: text.encode(LAUNCH_JS) },
  ];
}

/** The package as zip bytes. @param {Exercise} exercise */
export function scormPackage(exercise) {
  return zip(packageFiles(exercise));
}

/** @param {Exercise} exercise */
function title(exercise) {
  return exercise.prompt ? `${exercise.topic.title}: ${exercise.prompt.question}` : exercise.topic.title;
}

/** Text for XML and HTML, with the five special characters escaped. @param {string} text */
function escapeMarkup(text) {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** @param {Exercise} exercise */
function manifest(exercise) {
  const id = `concurrency-playground-${packageName(exercise).replace(/\.zip$/, '')}`.replace(/[^A-Za-z0-9_-]/g, '-');
  const name = escapeMarkup(title(exercise));
  return `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="${id}" version="1.0"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="exercise">
    <organization identifier="exercise">
      <title>${name}</title>
      <item identifier="item" identifierref="launch" isvisible="true">
        <title>${name}</title>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="launch" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
      <file href="launch.js"/>
    </resource>
  </resources>
</manifest>
`;
}

/** @param {Exercise} exercise */
function launchPage(exercise) {
  const origin = new URL(exercise.playground).origin;
  // JSON inside a script element: '<' escaped so no text can close the element.
  const config = JSON.stringify({
    playground: exercise.playground,
    topic: exercise.topic.id,
    params: exercise.params,
    prompt: exercise.prompt?.id ?? null,
    panels: exercise.panels,
  }).replaceAll('<', '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; frame-src ${origin}; style-src 'unsafe-inline'; base-uri 'none'">
  <title>${escapeMarkup(title(exercise))}</title>
</head>
<body style="margin: 0 auto; max-width: 70rem; padding: 0.5rem 1rem; font-family: system-ui, sans-serif">
  <h1 style="font-size: 1.3rem">${escapeMarkup(title(exercise))}</h1>
  <p>${exercise.prompt ? 'Answer the question above Run, then run the program: your first run is graded.' : 'Run the program to complete this exercise.'}</p>
  <p id="status" role="status">Loading the playground…</p>
  <div id="exercise-frame"></div>
  <script type="application/json" id="exercise">${config}</script>
  <script src="launch.js"></script>
</body>
</html>
`;
}

// The launch page's script (a classic script, kept as text: it runs inside the LMS, not here).
const LAUNCH_JS = `// Embeds the exercise from the hosted playground and reports to the LMS through its SCORM 1.2 API.
(function () {
  'use strict';
  var exercise = JSON.parse(document.getElementById('exercise').textContent);
  var status = document.getElementById('status');
  var playground = new URL(exercise.playground);

  // The LMS puts its API object on a parent frame (or on the window that opened this one).
  function findApi(win) {
    for (var hops = 0; win && hops < 12; hops++) {
      try { if (win.API) return win.API; } catch (e) { /* another origin: go on up */ }
      if (win.parent === win) break;
      win = win.parent;
    }
    return null;
  }
  var api = findApi(window) || (window.opener ? findApi(window.opener) : null);
  var started = Date.now();
  var graded = false;
  var finished = false;
  if (api) {
    api.LMSInitialize('');
    if (api.LMSGetValue('cmi.core.lesson_status') === 'not attempted') api.LMSSetValue('cmi.core.lesson_status', 'incomplete');
    api.LMSCommit('');
  }

  function say(text) { status.textContent = text; }

  function report(lessonStatus, score) {
    if (!api) return say(lessonStatus + (score === null ? '' : ', score ' + score) + ' (no LMS found: nothing was recorded).');
    if (score !== null) {
      api.LMSSetValue('cmi.core.score.min', '0');
      api.LMSSetValue('cmi.core.score.max', '100');
      api.LMSSetValue('cmi.core.score.raw', String(score));
    }
    api.LMSSetValue('cmi.core.lesson_status', lessonStatus);
    api.LMSCommit('');
  }

  var src = new URL('embed.html', playground);
  src.searchParams.set('topic', exercise.topic);
  Object.keys(exercise.params).forEach(function (name) { src.searchParams.set(name, exercise.params[name]); });
  if (exercise.prompt) src.searchParams.set('prompt', exercise.prompt);
  if (exercise.panels) src.searchParams.set('panels', exercise.panels.join(','));
  // Only this page may drive the embed, and only it hears from it.
  if (window.location.origin && window.location.origin !== 'null') src.searchParams.set('origin', window.location.origin);
  var frame = document.createElement('iframe');
  frame.src = src.href;
  frame.title = document.title;
  frame.allow = 'cross-origin-isolated';
  frame.style.cssText = 'display: block; width: 100%; height: 900px; border: 1px solid #ccc';
  document.getElementById('exercise-frame').appendChild(frame);

  window.addEventListener('message', function (event) {
    if (event.source !== frame.contentWindow || event.origin !== playground.origin) return;
    var message = event.data;
    if (!message || typeof message.type !== 'string') return;
    if (message.type === 'resize' && message.height > 0) frame.style.height = message.height + 'px';
    if (message.type === 'ready') say(exercise.prompt ? 'Ready: answer, then Run.' : 'Ready: press Run.');
    if (graded) return;
    if (message.type === 'outcome' && (!exercise.prompt || message.prompt === exercise.prompt)) {
      var result = message.statement.result;
      graded = true;
      if (result.success === undefined) {
        report('completed', 0);
        say('Completed without a prediction: score 0 of 100.');
      } else {
        report(result.success ? 'passed' : 'failed', result.success ? 100 : 0);
        say((result.success ? 'Passed' : 'Not this time') + ': score ' + (result.success ? 100 : 0) + ' of 100.');
      }
    } else if (message.type === 'result' && message.status === 'ok' && !exercise.prompt) {
      graded = true;
      report('completed', null);
      say('Completed.');
    }
  });

  function finish() {
    if (finished || !api) return;
    finished = true;
    var seconds = (Date.now() - started) / 1000;
    var hh = Math.floor(seconds / 3600), mm = Math.floor(seconds / 60) % 60, ss = (seconds % 60).toFixed(2);
    api.LMSSetValue('cmi.core.session_time', String(hh).padStart(4, '0') + ':' + String(mm).padStart(2, '0') + ':' + ss.padStart(5, '0'));
    api.LMSCommit('');
    api.LMSFinish('');
  }
  window.addEventListener('pagehide', finish);
  window.addEventListener('beforeunload', finish);
})();
`;

/** CRC-32 (the zip format's), by the usual table. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** @param {Uint8Array} bytes */
export function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive of `entries`, stored without compression (a few kilobytes of text: compression
 * would save little and need a deflate implementation in the page). Dates are 1980-01-01, so the
 * same exercise gives the same bytes.
 * @param {ZipEntry[]} entries
 */
export function zip(entries) {
  const text = new TextEncoder();
  /** @type {Uint8Array[]} */
  const parts = [];
  /** @type {Uint8Array[]} */
  const central = [];
  let offset = 0;
  for (const entry of entries) {
    const name = text.encode(entry.path);
    const crc = crc32(entry.bytes);
    // Version 2.0, flag bit 11 (names in UTF-8), stored, time 00:00, date 1980-01-01.
    /** @type {[number, 2 | 4][]} */
    const common = [
      [20, 2],
      [0x0800, 2],
      [0, 2],
      [0, 2],
      [0x21, 2],
      [crc, 4],
      [entry.bytes.length, 4],
      [entry.bytes.length, 4],
      [name.length, 2],
      [0, 2],
    ];
    const local = fields([[0x04034b50, 4], ...common]);
    parts.push(local, name, entry.bytes);
    central.push(fields([[0x02014b50, 4], [20, 2], ...common, [0, 2], [0, 2], [0, 2], [0, 4], [offset, 4]]), name);
    offset += local.length + name.length + entry.bytes.length;
  }
  const size = central.reduce((n, b) => n + b.length, 0);
  const end = fields([
    [0x06054b50, 4],
    [0, 2],
    [0, 2],
    [entries.length, 2],
    [entries.length, 2],
    [size, 4],
    [offset, 4],
    [0, 2],
  ]);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of all) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * Little-endian fields of 2 or 4 bytes.
 * @param {[value: number, bytes: 2 | 4][]} list
 */
function fields(list) {
  const out = new Uint8Array(list.reduce((n, [, bytes]) => n + bytes, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [value, bytes] of list) {
    if (bytes === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value >>> 0, true);
    at += bytes;
  }
  return out;
}
