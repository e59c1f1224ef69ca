// The JavaScript side of the Rust<->JS contract: typedefs only, no code. Every type that Rust
// serializes with serde is generated from the Rust type itself (ts-rs, src/typescript.rs) into
// ./generated/rust.d.ts, which `cargo test` checks is current, and is re-exported here under the
// name the front end uses. What is written by hand below is what no Rust type describes: the
// values as the page holds them after the engine worker converted them (`Report`, `Series`,
// `ImageOut`), parameter values, what Rust writes with `json!` or as a bare `Result`
// (`BenchResult`), the engine's and the isolated workers' messages, and the crash
// causes the page works out. Import one with `@typedef {import('./types.js').Report} Report`.
/** @import * as Rust from './generated/rust.js' */

export {};

// ----- the catalog (src/topic.rs, src/mode.rs, src/params.rs, src/predict.rs, src/topics/mod.rs) -----

/** @typedef {Rust.Chapter} Chapter */
/** @typedef {Rust.Model} Model */
/** @typedef {Rust.Mode} Mode */
/** @typedef {Rust.Choice} Choice */
/** @typedef {Rust.Prompt} Prompt */
/** @typedef {Rust.Accepted} Accepted */
/** @typedef {Rust.Judged} Judged */
/** @typedef {Rust.Preset} Preset */
/** @typedef {Rust.Param} Param `default` is whatever JSON the kind holds; see www/js/catalog.js for `per_core` */
/** @typedef {Rust.Topic} Topic its explanation, code and Python come apart, see `Texts` */
/** @typedef {Rust.Catalog} Catalog */

/** @typedef {Rust.Texts} Texts a topic's long texts, fetched from www/pkg/texts/<id>.json */

/** @typedef {Rust.FileValue} FileValue a picked file as a file parameter's value */

/** @typedef {Rust.JsonValue} JsonValue any value serde_json writes */

/**
 * Parameter values by field name (raw from a URL or form, or validated).
 * @typedef {Record<string, unknown>} Values
 */

// ----- validation (src/params.rs, src/runner.rs) -----

/** @typedef {Rust.FieldError} FieldError */
/** @typedef {Rust.Checked} Checked the answer to 'check-params' */

// ----- the report (src/report.rs, src/report/) -----

/** @typedef {Rust.SpanKind} SpanKind */
/** @typedef {Rust.Span} Span */
/** @typedef {Rust.LogLine} LogLine */
/** @typedef {Rust.ModeStatus} ModeStatus */
/** @typedef {Rust.ModeRow} ModeRow */
/** @typedef {Rust.Check} Check */
/** @typedef {Rust.SeriesJson} SeriesJson */
/** @typedef {Rust.Table} Table */
/** @typedef {Rust.FileOut} FileOut */
/** @typedef {Rust.Link} Link */
/** @typedef {Rust.ImageJson} ImageJson */
/** @typedef {Rust.Step} Step */
/** @typedef {Rust.StepFinding} StepFinding */
/** @typedef {Rust.WaitGraph} WaitGraph */
/** @typedef {Rust.Stepper} Stepper */
/** @typedef {Rust.RunStatus} RunStatus */
/** @typedef {Rust.ReportJson} ReportJson */

/**
 * A series as the page receives it: the engine flattens the points into `[x0, y0, x1, y1, ...]`
 * (a transferred typed array rather than 200,000 small arrays to copy).
 * @typedef {Omit<SeriesJson, 'points'> & {points: Float64Array}} Series
 */

/**
 * An image as the page receives it: the engine decodes the base64 into pixels ready for ImageData.
 * @typedef {Omit<ImageJson, 'rgba'> & {rgba: Uint8ClampedArray}} ImageOut
 */

/**
 * A report as the page receives it (engine-worker.js converts images and series; engine-client.js
 * puts back the spans and log lines that came in progress messages).
 * @typedef {Omit<ReportJson, 'series' | 'images'> & {series: Series[], images: ImageOut[]}} Report
 */

// ----- a run in progress (src/run.rs) -----

/** @typedef {Rust.Progress} Progress */
/** @typedef {Rust.Needs} Needs the threads and isolated workers a run can use at once (`prepare`) */
/** @typedef {Rust.Drained} Drained what a run recorded since the previous look */

// ----- how a run ends (src/runner.rs `Outcome`, tagged by `outcome`) -----

/**
 * Rust's outcome with the report as `R`: `ReportJson` from the wasm, `Report` on the page.
 * @template R
 * @typedef {Exclude<Rust.Outcome, {outcome: 'finished'}> | {outcome: 'finished', report: R}} OutcomeOf
 */

// ----- how a run ended, as the page sees it (no Rust type) -----

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

/** @typedef {Rust.SelfTestFinding} SelfTestFinding */

/**
 * The diagnostics page's self-test (`selftest` request).
 * @typedef {{caps: Caps, shared: boolean, findings: SelfTestFinding[]}} SelfTest
 */

/**
 * One benchmark measurement: Rust's `Result<f64, String>` as serde writes it.
 * @typedef {{Ok: number} | {Err: string}} BenchResult
 */

// ----- the scheduler engine (src/interleaving/schedule.rs) -----

/** @typedef {Rust.ScheduleSize} ScheduleSize */
/** @typedef {Rust.ScheduleRequest} ScheduleRequest */
/** @typedef {Rust.ScheduleView} ScheduleView */
/** @typedef {Rust.ScheduleSearch & {ms: number}} ScheduleSearch `ms`: how long the search took (added beside the `Search`) */

/**
 * Requests from the page. 'run' is answered by 'progress' messages and one 'done'; 'check-params',
 * 'selftest' and 'bench' by one 'answer' with the same id; the rest by none ('life' by 'alive').
 * 'part' comes first: which engine part (and build) to run, so its glue loads at once; then
 * 'module', the wasm the page compiled for it (null: the engine fetches its own).
 * @typedef {{type: 'check-params', id: number, topic: string, params: Values, lenient: boolean}
 *   | {type: 'run', id: number, topic: string, params: Values, stallMs?: number}
 *   | {type: 'prepare', topic: string, params: Values}
 *   | {type: 'selftest', id: number}
 *   | {type: 'bench', id: number, name: string, arg: number}
 *   | {type: 'schedule', id: number, topic: string, request: ScheduleRequest, search: boolean}
 *   | {type: 'stop'}
 *   | {type: 'life', name: string}
 *   | {type: 'part', flavor: Caps['flavor'], part: string}
 *   | {type: 'module', module: WebAssembly.Module | null}
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
