// The JavaScript side of the Rust<->JS contract: typedefs only, no code. Each mirrors a Rust type
// serialized with serde (struct fields keep their snake_case names; `Option` is `null` when absent,
// since no field skips serializing). Import one with `@typedef {import('./types.js').Report} Report`.
// When a Rust type in src/report.rs, src/topic.rs, src/params.rs, src/runner.rs or src/run.rs
// changes, change its typedef here.

export {};

// ----- the catalog (src/topic.rs, src/params.rs, src/topics/mod.rs) -----

/**
 * `Chapter`: serialized as its title.
 * @typedef {'Foundations' | 'Threads and synchronization' | 'Processes (isolated workers)' | 'Async' | 'Patterns and scale'} Chapter
 */

/**
 * `Model`: how a mode runs its work; 'threads' needs shared memory; 'scheduled' runs a lesson's
 * threads as tasks on the scheduler engine (no shared memory).
 * @typedef {'sequential' | 'threads' | 'workers' | 'async' | 'scheduled'} Model
 */

/** @typedef {{id: string, label: string, model: Model}} Mode */

/**
 * A question asked before a run. src/predict.rs `Prompt`; `fastest` / `slowest` name modes.
 * @typedef {{id: string, label: string}} Choice
 * @typedef {{id: string, question: string} & ({kind: 'fastest' | 'slowest' | 'choice', choices: Choice[]}
 *   | {kind: 'number', unit: string, min: number, max: number, step: number, tolerance: {relative: number, absolute: number}})} Prompt
 */

/**
 * A prompt answered by a run. src/predict.rs `Judged`; `measured` null: this run could not tell.
 * @typedef {{type: 'range', min: number, max: number} | {type: 'choices', ids: string[]} | {type: 'nothing'}} Accepted
 * @typedef {{prompt: string, measured: number | string | null, shown: string, accepted: Accepted, explanation: string}} Judged
 */

/**
 * A named set of parameter values (`Preset`).
 * @typedef {{id: string, label: string, values: Record<string, unknown>}} Preset
 */

/**
 * `Kind`, tagged by `type` and flattened into its `Param`.
 * @typedef {{type: 'int', min: number, max: number}
 *   | {type: 'float', min: number, max: number, step: number}
 *   | {type: 'choice', options: [value: string, label: string][]}
 *   | {type: 'bool'}
 *   | {type: 'text', max_len: number}
 *   | {type: 'files', accept: string, max_files: number, max_bytes: number}} ParamKind
 */

/**
 * One field of a topic's form (`Param`). `default` is whatever JSON value the kind holds; an int
 * field's may follow the learner's cores (`per_core`, `split_over_cores`: www/js/catalog.js).
 * @typedef {{name: string, label: string, help: string, default: unknown, per_core?: number, split_over_cores?: number} & ParamKind} Param
 */

/**
 * What the page knows of a topic (`Topic`; its explanation, code and Python come apart, see `Texts`).
 * @typedef {{id: string, title: string, chapter: Chapter, summary: string, params: Param[], presets: Preset[], modes: Mode[], prompts: Prompt[]}} Topic
 */

/**
 * The catalog (src/topics/mod.rs): chapters in order, the engine part that runs each topic (by
 * topic id), and the topics.
 * `lessons`: the goal of each topic's scheduled lesson, by topic id ("Be the scheduler").
 * @typedef {{chapters: Chapter[], parts: Record<string, string>, lessons?: Record<string, string>, diagnostics: string, topics: Topic[]}} Catalog
 */

/**
 * A topic's long texts, fetched from www/pkg/texts/<id>.json (src/bin/export_static.rs).
 * @typedef {{explanation: string, code: string, python: string}} Texts
 */

/**
 * A picked file as a file parameter's value: `data` is its bytes in base64; a report's `params`
 * (and files over the limits, which the form does not read) carry only the name and size.
 * @typedef {{name: string, size: number, data?: string}} FileValue
 */

/**
 * Parameter values by field name (raw from a URL or form, or validated).
 * @typedef {Record<string, unknown>} Values
 */

// ----- validation (src/params.rs `FieldError`, src/runner.rs `Checked`) -----

/** @typedef {{field: string, message: string}} FieldError */

/**
 * The answer to 'check-params': `params` are the validated values (complete when `ok`).
 * @typedef {{ok: boolean, params: Values, errors: FieldError[]}} Checked
 */

// ----- the report (src/report.rs) -----

/** @typedef {'run' | 'wait' | 'io' | 'spawn' | 'copy'} SpanKind */

/**
 * One span on the timeline; times in ms since the run started.
 * @typedef {{mode: string, lane: string, label: string, kind: SpanKind, start: number, end: number}} Span
 */

/** @typedef {{t: number, lane: string, text: string}} LogLine */

/** @typedef {'ok' | 'unavailable' | 'failed' | 'stopped'} ModeStatus */

/**
 * One row of the timing table (`ModeRow`).
 * @typedef {{id: string, label: string, status: ModeStatus, wall_ms: number | null, speedup: number | null, result: string | null, note: string | null, lanes: number}} ModeRow
 */

/** @typedef {{ok: boolean, text: string}} Check */

/**
 * Named points for a chart, as the engine serializes them: `[x, y]` pairs.
 * @typedef {{chart: string, name: string, x: string, y: string, points: [number, number][]}} SeriesJson
 */

/**
 * A series as the page receives it: the engine flattens the points into `[x0, y0, x1, y1, ...]`
 * (a transferred typed array rather than 200,000 small arrays to copy).
 * @typedef {Omit<SeriesJson, 'points'> & {points: Float64Array}} Series
 */

/** @typedef {{title: string, columns: string[], rows: string[][]}} Table */

/** @typedef {{name: string, mime: string, text: string}} FileOut */

/** @typedef {{topic: string, text: string}} Link */

/**
 * An RGBA image as the engine serializes it (`ImageOut`): the pixels in base64.
 * @typedef {{label: string, width: number, height: number, rgba: string}} ImageJson
 */

/**
 * An image as the page receives it: the engine decodes the base64 into pixels ready for ImageData.
 * @typedef {Omit<ImageJson, 'rgba'> & {rgba: Uint8ClampedArray}} ImageOut
 */

// ----- recorded interleavings (src/interleaving.rs): a report's `steppers` -----

/**
 * One recorded step (`StepOut`, its `op` from `Op`): a read or write carries the shared value
 * (`was` is what a write overwrote, when known); a lock step carries the lock's name.
 * @typedef {{thread: string, t: number} & ({op: 'read' | 'write', value: number, was?: number}
 *   | {op: 'lock-wait' | 'lock-acquire' | 'lock-release' | 'lock-give-up' | 'lock-cancelled', value: string, was?: undefined})} Step
 */

/**
 * A step worth stopping at (`Finding`): `step` indexes `steps`; `lost` counts the updates a lost
 * update erased (0 otherwise).
 * @typedef {{step: number, text: string, lost: number}} StepFinding
 */

/**
 * Who waits for whom when a wait cycle formed (`WaitGraph`): edges `[from, to, label]`, thread ->
 * lock "waits for", lock -> thread "held by".
 * @typedef {{step: number, edges: [from: string, to: string, label: string][], cycle: string[]}} WaitGraph
 */

/**
 * What the page's stepper shows for one mode (`Stepper`): `shared` names the shared value
 * ("balance"), `finding` what a finding is called ("lost update"); `recorded` of `happened` steps kept;
 * `clock` what a step's `t` counts: milliseconds, or the step's number on the scheduler (from 0).
 * @typedef {{mode: string, shared: string, finding: string, locks: string[], steps: Step[], findings: StepFinding[],
 *   recorded: number, happened: number, note: string, graph: WaitGraph | null, clock: 'ms' | 'step'}} Stepper
 */

/** @typedef {'ok' | 'stopped' | 'failed'} RunStatus */

/**
 * The whole result of a run as the engine serializes it (`Report`). `values` holds what a topic
 * chose to report by name.
 * @typedef {{topic: string, params: Values, status: RunStatus, error: string | null, wall_ms: number, started_at: number,
 *   baseline: string | null, modes: ModeRow[], checks: Check[], values: Record<string, unknown>, log: LogLine[], spans: Span[],
 *   series: SeriesJson[], tables: Table[], files: FileOut[], images: ImageJson[], links: Link[], steppers: Stepper[], predictions: Judged[]}} ReportJson
 */

/**
 * A report as the page receives it (engine-worker.js converts images and series; engine-client.js
 * puts back the spans and log lines that came in progress messages).
 * @typedef {Omit<ReportJson, 'series' | 'images'> & {series: Series[], images: ImageOut[]}} Report
 */

// ----- a run in progress (src/run.rs) -----

/** @typedef {{done: number, total: number, label: string}} Progress */

/**
 * What a run recorded since the previous look (`Drained`).
 * @typedef {{log: LogLine[], spans: Span[], progress: Progress | null}} Drained
 */

// ----- how a run ends (src/runner.rs `Outcome`, tagged by `outcome`) -----

/**
 * @template R the report's shape: `ReportJson` from the wasm, `Report` on the page
 * @typedef {{outcome: 'rejected', message: string, errors: FieldError[]}
 *   | {outcome: 'finished', report: R}
 *   | {outcome: 'unavailable', message: string}} OutcomeOf
 */

/**
 * How a run ended, as the engine client resolves it: the engine's outcome, 'crashed' when the
 * engine had to be replaced (`crash` says why, as data), 'unsent' when a Stop (or a switch of the
 * engine's part) came before the run reached Rust. The learner's sentence for each is
 * run-controller.js's.
 * @typedef {OutcomeOf<Report> | Unsent | {outcome: 'crashed', crash: Crash}} Outcome
 * @typedef {{outcome: 'unsent', cause: 'stop' | 'switch'}} Unsent a run that never reached Rust
 */

/**
 * Why the engine worker was replaced during a run: a Rust panic; a trap where the allocator had
 * just failed (out of memory, with what it knows) or any other trap; the worker's `error` event; a
 * worker gone without a word (lost); Rust's stall watchdog (every thread waits: `detail` says for
 * what); an engine thread silent for `seconds`; a Stop not honoured in time (hard-stop); a switch
 * to another part of the engine.
 * @typedef {{cause: 'panic', detail: string}
 *   | {cause: 'out-of-memory', failedAllocation: number, memoryBytes: number, flavor: Caps['flavor']}
 *   | {cause: 'trap', detail: string}
 *   | {cause: 'worker-error', detail: string}
 *   | {cause: 'lost'}
 *   | {cause: 'stalled', detail: string}
 *   | {cause: 'silent', seconds: number}
 *   | {cause: 'hard-stop'}
 *   | {cause: 'switch'}} Crash
 */

// ----- the engine (www/engine/engine-worker.js <-> www/js/engine-client.js) -----

/**
 * What the page can use: `threads` when the threaded build loaded and shares memory.
 * @typedef {{threads: boolean, cores: number, isolated: boolean, flavor: 'threads' | 'plain', fallback?: string}} Caps
 *   `fallback`: why the page runs the plain build although threads were expected (the threaded engine did not start)
 */

/** @typedef {{name: string, ok: boolean, detail: string}} SelfTestFinding src/engines/selftest.rs `Finding` */

/**
 * The diagnostics page's self-test (`selftest` request).
 * @typedef {{caps: Caps, shared: boolean, findings: SelfTestFinding[]}} SelfTest
 */

/**
 * One benchmark measurement: Rust's `Result<f64, String>` as serde writes it.
 * @typedef {{Ok: number} | {Err: string}} BenchResult
 */

// ----- the scheduler engine (src/interleaving/schedule.rs) -----

/** @typedef {{threads: number, rounds: number}} ScheduleSize */

/**
 * A "You schedule" or "Find the bug" request: the lesson's version (null: its first) and the
 * choices so far (0-based thread indices).
 * @typedef {{variant: string | null, choices: number[], size?: ScheduleSize}} ScheduleRequest
 */

/**
 * `View`: what each thread does next and its local copy, the shared value and the locks, whether
 * the goal is reached (explained in one sentence from the steps), and the steps so far.
 * @typedef {{goal: string, variant: string, variants: {id: string, label: string}[], size: ScheduleSize, shared: string, value: number,
 *   locks: {name: string, holder: string | null}[],
 *   threads: {name: string, next: string | null, local: number | null, enabled: boolean, done: boolean, waits_for: string | null}[],
 *   choices: number[], reached: boolean, finished: boolean, deadlocked: boolean, explanation: string | null, message: string, stepper: Stepper}} ScheduleView
 */

/**
 * `Search` (and the `ms` it took): every interleaving counted, the failing ones, the shortest failing schedule and its view.
 * @typedef {{variant: string, size: ScheduleSize, interleavings: number, failing: number, states: number, shortest: number[] | null,
 *   summary: string, view: ScheduleView | null, ms: number}} ScheduleSearch
 */

/**
 * Requests from the page. 'run' is answered by 'progress' messages and one 'done'; 'check-params',
 * 'selftest' and 'bench' by one 'answer' with the same id; the rest by none ('life' by 'alive').
 * 'module' comes first: which engine part to run, and the wasm the page compiled for it (null: the
 * engine fetches its own).
 * @typedef {{type: 'check-params', id: number, topic: string, params: Values, lenient: boolean}
 *   | {type: 'run', id: number, topic: string, params: Values, stallMs?: number}
 *   | {type: 'prepare', topic: string, params: Values}
 *   | {type: 'selftest', id: number}
 *   | {type: 'bench', id: number, name: string, arg: number}
 *   | {type: 'schedule', id: number, topic: string, request: ScheduleRequest, search: boolean}
 *   | {type: 'stop'}
 *   | {type: 'life', name: string}
 *   | {type: 'module', flavor: Caps['flavor'], part: string, module: WebAssembly.Module | null}
 *   | {type: 'fault', kind: 'fill-memory' | 'thread-panic', leaveBytes?: number}} EngineRequest
 */

/**
 * Messages from the engine worker. 'progress' carries a `Drained` as JSON text (parsed faster
 * than objects are copied); 'done' carries a report without spans and log lines, `posted` saying
 * how many of each came in progress messages; 'panic' comes from Rust's panic hook (src/host.rs).
 * A request that could not be handled is answered with a `Checked` naming why, whatever it asked.
 * @typedef {{type: 'worker-host', port: MessagePort}
 *   | {type: 'ready', caps: Caps, bootMs: number}
 *   | {type: 'failed', message: string}
 *   | {type: 'alive'}
 *   | {type: 'progress', id: number, drained: string}
 *   | {type: 'done', id: number, outcome: OutcomeOf<Report & {posted?: {spans: number, log: number}}> | Unsent}
 *   | {type: 'answer', id: number, result: Checked | SelfTest | BenchResult | ScheduleView | ScheduleSearch | {error: string}}
 *   | {type: 'heartbeat', id: number}
 *   | {type: 'stuck', id: number, reason: string}
 *   | {type: 'crashed', message: string, failedAllocation: number, memoryBytes: number, flavor: Caps['flavor']}
 *   | {type: 'panic', message: string}} EngineMessage
 */

// ----- isolated workers (www/engine/isolated-pool.js <-> isolated-worker.js) -----

/**
 * @typedef {{type: 'init', glue: string, module: WebAssembly.Module, warmUp: boolean, life: string}
 *   | {type: 'job', seq: number, job: string, input: Uint8Array, pauseMs: number}} IsolatedRequest
 */

/**
 * Clock times are ms since the epoch (performance.timeOrigin + performance.now()): workers share no clock.
 * @typedef {{type: 'ready'}
 *   | {type: 'failed', message: string}
 *   | {type: 'done', seq: number, output: Uint8Array, paused: number, start: number, end: number}
 *   | {type: 'panic', message: string}} IsolatedMessage
 */
