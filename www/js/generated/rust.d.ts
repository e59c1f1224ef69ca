// Generated from the Rust types by `TYPESCRIPT_EXPORT=1 cargo test --lib typescript` (src/typescript.rs):
// do not edit. www/js/types.js re-exports these for the type check; no page loads this file.

/**
 * Which answers count as right.
 */
export type Accepted = { "type": "range", min: number, max: number, } | { "type": "choices", ids: Array<string>, } | { "type": "nothing" };

/**
 * An answer: a number, or a choice's id.
 */
export type Answer = number | string;

export type Catalog = { 
/**
 * In order. (An array to JavaScript, not a tuple of five: the page starts with none.)
 */
chapters: Array<Chapter>, 
/**
 * The engine part that runs each topic, by topic id.
 */
parts: { [key in string]: string }, 
/**
 * The goal of each topic's scheduled lesson, by topic id (the page offers "You schedule").
 */
lessons: { [key in string]: string }, 
/**
 * The part with the self-test and the benchmark's measurements ([`DIAGNOSTICS_PART`]).
 */
diagnostics: string, topics: Array<Topic>, };

export type Chapter = "Foundations" | "Threads and synchronization" | "Processes (isolated workers)" | "Async" | "Patterns and scale";

/**
 * A property the run checked about itself, e.g. "all modes give the same sum".
 */
export type Check = { ok: boolean, text: string, };

/**
 * The answer to "are these parameters fine?": complete values, and what was wrong.
 */
export type Checked = { ok: boolean, 
/**
 * Always an object: the values by field name.
 */
params: { [key in string]: JsonValue }, errors: Array<FieldError>, };

export type Choice = { id: string, label: string, };

/**
 * What a step's `t` counts: milliseconds since the run started (real threads), or the step's
 * number from 0 (the scheduler has no clock: one step is one unit of its time).
 */
export type Clock = "ms" | "step";

/**
 * What has been recorded since the previous drain.
 */
export type Drained = { log: Array<LogLine>, spans: Array<Span>, progress: Progress | null, };

export type FieldError = { field: string, message: string, };

/**
 * A text file the learner can download.
 */
export type FileOut = { name: string, mime: string, text: string, };

/**
 * One picked file as a file parameter's value: `data` is its bytes in base64, from the page; a
 * report's params (and a file over the limits, which the form does not read) carry only the
 * name and size.
 */
export type FileValue = { name: string, size: number, data?: string, };

/**
 * An RGBA image to show (e.g. a thumbnail).
 */
export type ImageJson = { label: string, width: number, height: number, 
/**
 * In JSON, base64 like every byte string the page and the engine exchange.
 */
rgba: string, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * A prompt answered by a run (in `report.predictions`).
 */
export type Judged = { prompt: string, 
/**
 * `None`: this run could not measure it (the explanation says why).
 */
measured: Answer | null, 
/**
 * The measured answer in words, e.g. "1.9x" or "Async tasks".
 */
shown: string, accepted: Accepted, 
/**
 * One sentence from the run's own values.
 */
explanation: string, };

/**
 * A link to another topic that shows something the run talks about.
 */
export type Link = { 
/**
 * The topic's id (the page links to `?topic=ID`).
 */
topic: string, text: string, };

export type LockView = { name: string, holder: string | null, };

export type LogLine = { 
/**
 * Milliseconds since the run started.
 */
t: number, lane: string, text: string, };

export type Mode = { id: string, label: string, model: Model, };

/**
 * One row of the timing table: how a mode did.
 */
export type ModeRow = { id: string, label: string, status: ModeStatus, wall_ms: number | null, 
/**
 * Baseline wall time divided by this mode's; filled in when the run ends.
 */
speedup: number | null, 
/**
 * What the mode computed, for display (e.g. the exact sum).
 */
result: string | null, note: string | null, 
/**
 * How many distinct lanes (threads, workers, tasks) the mode used.
 */
lanes: number, };

export type ModeStatus = "ok" | "unavailable" | "failed" | "stopped";

/**
 * How a mode runs its work; decides what the page needs to run it.
 */
export type Model = "sequential" | "threads" | "workers" | "async" | "scheduled";

/**
 * How many threads and isolated workers a run can use at once with given parameters. The page
 * asks the engine to have them started when it shows the topic (and when the form changes), so
 * that a run measures threads and workers, not their start-up.
 */
export type Needs = { threads: number, workers: number, };

/**
 * What a step did.
 */
export type Op = "read" | "write" | "lock-wait" | "lock-acquire" | "lock-release" | "lock-give-up" | "lock-cancelled";

export type Outcome = { "outcome": "rejected", message: string, errors: Array<FieldError>, } | { "outcome": "finished", report: ReportJson, } | { "outcome": "unavailable", message: string, };

/**
 * One field of a topic's parameter form.
 */
export type Param = { name: string, label: string, help: string, default: JsonValue, 
/**
 * A default of this many per core of the learner's machine (a pool's size, a task count): the
 * page replaces `default` with it times `navigator.hardwareConcurrency`, within the limits
 * (www/js/catalog.js). `default` is the value for [`REFERENCE_CORES`], which Rust fills in
 * for a value the page did not send, and natively.
 */
per_core?: number, 
/**
 * A default of this total shared among the cores (a task's share of a fixed amount of work,
 * when the task count follows the cores): the page divides it by the learner's cores.
 */
split_over_cores?: number, } & ({ "type": "int", min: number, max: number, } | { "type": "float", min: number, max: number, step: number, } | { "type": "choice", options: Array<[string, string]>, } | { "type": "bool" } | { "type": "text", max_len: number, } | { "type": "files", accept: string, max_files: number, max_bytes: number, });

/**
 * A named set of parameter values, e.g. the original durations or a large input.
 */
export type Preset = { id: string, label: string, 
/**
 * Always an object: the values by field name.
 */
values: { [key in string]: JsonValue }, };

/**
 * Progress of a long run, shown as a bar.
 */
export type Progress = { done: number, total: number, label: string, };

/**
 * One question asked before a run.
 */
export type Prompt = { 
/**
 * Unique within its topic (a package or an embed names it: `prompt=ID`).
 */
id: string, question: string, } & ({ "kind": "fastest", choices: Array<Choice>, } | { "kind": "slowest", choices: Array<Choice>, } | { "kind": "number", unit: string, min: number, max: number, step: number, tolerance: Tolerance, } | { "kind": "choice", choices: Array<Choice>, });

/**
 * The whole result of a run.
 */
export type ReportJson = { topic: string, 
/**
 * Always an object: the values by field name.
 */
params: { [key in string]: JsonValue }, status: RunStatus, error: string | null, wall_ms: number, 
/**
 * Absolute start time (ms since the Unix epoch) so runs can be compared.
 */
started_at: number, baseline: string | null, modes: Array<ModeRow>, checks: Array<Check>, values: { [key in string]: JsonValue }, log: Array<LogLine>, spans: Array<Span>, series: Array<SeriesJson>, tables: Array<Table>, files: Array<FileOut>, images: Array<ImageJson>, links: Array<Link>, 
/**
 * Recorded interleavings the page lets the learner step through.
 */
steppers: Array<Stepper>, 
/**
 * The topic's prompts answered by this run (`predict`): empty unless it finished.
 */
predictions: Array<Judged>, };

export type RunStatus = "ok" | "stopped" | "failed";

/**
 * A request from the page: `{variant, choices, size?}` (size defaults to the lesson's).
 */
export type ScheduleRequest = { variant: string | null, choices: Array<number>, size?: ScheduleSize, };

/**
 * What exploring every interleaving of an instance found.
 */
export type ScheduleSearch = { variant: string, size: ScheduleSize, 
/**
 * Complete interleavings (each thread's steps to its end, or to a deadlock), counted exactly.
 */
interleavings: number, 
/**
 * Of those, the ones in which the failure happens.
 */
failing: number, 
/**
 * Distinct states visited (what the cache kept the search to).
 */
states: number, 
/**
 * The shortest schedule that fails (thread indices), if any.
 */
shortest: Array<number> | null, summary: string, 
/**
 * The shortest failing schedule replayed: its steps for the stepper, its explanation.
 */
view: ScheduleView | null, };

/**
 * How big an instance is: threads, and rounds of the body per thread.
 */
export type ScheduleSize = { threads: number, rounds: number, };

export type ScheduleView = { goal: string, variant: string, variants: Array<Variant>, size: ScheduleSize, shared: string, value: number, locks: Array<LockView>, threads: Array<ThreadView>, 
/**
 * The choices so far (0-based thread indices): the page sends them back, minus the last for undo.
 */
choices: Array<number>, 
/**
 * The lesson's goal (its failure) happened.
 */
reached: boolean, finished: boolean, deadlocked: boolean, 
/**
 * One sentence from the real steps, once the goal is reached (the stepper's wording).
 */
explanation: string | null, 
/**
 * What to say now: the explanation, the end, or what to do.
 */
message: string, stepper: Stepper, };

export type SelfTestFinding = { name: string, ok: boolean, detail: string, };

/**
 * Named points for a chart. `x` and `y` name the axes.
 */
export type SeriesJson = { chart: string, name: string, x: string, y: string, points: Array<[number, number]>, };

/**
 * One span on the timeline. Times are milliseconds since the run started.
 */
export type Span = { mode: string, lane: string, label: string, kind: SpanKind, start: number, end: number, };

/**
 * What a span of time on a lane was spent doing; the timeline draws each kind differently.
 */
export type SpanKind = "run" | "wait" | "io" | "spawn" | "copy";

/**
 * A step as the page and embedding pages get it.
 */
export type Step = { thread: string, t: number } & ({ op: 'read' | 'write', value: number, was?: number } | { op: Exclude<Op, 'read' | 'write'>, value: string, was?: undefined });

/**
 * A step worth stopping at, explained.
 */
export type StepFinding = { 
/**
 * Index into `steps`.
 */
step: number, text: string, 
/**
 * How many updates this one erased (lost updates only).
 */
lost: number, };

/**
 * What the page's stepper shows for one mode: a result kind any topic can emit.
 */
export type Stepper = { mode: string, 
/**
 * What the shared value is called ("balance", "counter").
 */
shared: string, 
/**
 * What a finding is called, for the "next ..." button ("lost update", "deadlock").
 */
finding: string, locks: Array<string>, steps: Array<Step>, findings: Array<StepFinding>, recorded: number, happened: number, 
/**
 * How the steps were chosen, in a sentence.
 */
note: string, 
/**
 * Who waits for whom when a wait cycle formed (threads wait for locks, locks are held by threads).
 */
graph: WaitGraph | null, 
/**
 * What a step's `t` counts.
 */
clock: Clock, };

export type Table = { title: string, columns: Array<string>, rows: Array<Array<string>>, };

/**
 * A topic's long texts as the page fetches them, from `www/pkg/texts/<id>.json` (written by the
 * `export_static` binary; see `prose!`).
 */
export type Texts = { explanation: string, code: string, python: string, };

export type ThreadView = { name: string, 
/**
 * What it does when it next moves ("read the balance", "take lock A"); none once done.
 */
next: string | null, 
/**
 * Its local copy: the value it read last.
 */
local: number | null, enabled: boolean, done: boolean, waits_for: string | null, };

/**
 * A number counts as right within `absolute` or within `relative` x the measurement, whichever is wider.
 */
export type Tolerance = { relative: number, absolute: number, };

/**
 * A topic as the catalog lists it: its metadata and its prompts.
 */
export type Topic = { prompts: Array<Prompt>, id: string, title: string, chapter: Chapter, 
/**
 * One sentence for the topic list.
 */
summary: string, params: Array<Param>, presets: Array<Preset>, modes: Array<Mode>, };

/**
 * A version of the lesson's code: the broken one, or a fix.
 */
export type Variant = { id: string, label: string, };

export type WaitGraph = { step: number, 
/**
 * `[from, to, label]`: "thread 1" -> "lock B" (waits for), "lock B" -> "thread 2" (held by).
 */
edges: Array<[string, string, string]>, cycle: Array<string>, };
