// What the tests' own pages put on `window` (the course pages of harness.mjs and the chapter
// tests, the benchmark's page), for the functions the tests run in those pages (page.evaluate).

/**
 * A message an embed posts (README, "Embedding"): the tests check its fields, so it is loosely
 * typed; `checks` (a result's) and `errors` (an error's) are typed for the tests that read them
 * once they know the type.
 */
type EmbedMessage = {
  type?: string;
  subject?: string;
  requestId?: string | number | null;
  checks: { ok: boolean; text: string }[];
  errors: { field: string; message: string }[];
  [field: string]: any;
};

type AxeCheck = { message: string };
type AxeViolation = { id: string; nodes: { target: string[]; any: AxeCheck[]; all: AxeCheck[]; none: AxeCheck[] }[] };

interface Window {
  /** openEmbedCourse: the embed's answers and its ready message, in arrival order. */
  replies: EmbedMessage[];
  /** openEmbedCourse: everything else the embed posts (run events, resize reports). */
  events: EmbedMessage[];
  /** openEmbedCourse: posts `message` to the embed (anything: the fuzz tests send junk too). */
  send(message: unknown): void;
  /** The processes test's course page: the embed's answers. */
  results: EmbedMessage[];
  /** The example course page: the xAPI-shaped statements of the embeds' 'prediction' and 'outcome' messages. */
  statements: any[];
  /** The SCORM test's LMS: scorm-again's SCORM 1.2 API (the part the test reads), and the calls the package made. */
  API: { cmi: { core: { lesson_status: string; score: { raw: string; min: string; max: string } } } };
  lmsCalls: [call: string, element?: string, value?: string][];
  /** The chapter tests' course pages: every message from the embed. */
  messages: EmbedMessage[];
  /** The chapter tests' course pages: asks the embed to run (patterns: a topic; foundation: params for gil; stepper: race). */
  runDemo(topic: string, requestId: number): void;
  runDemo(params: object): void;
  runDemo(): void;
  /** The settling test: whether the history entry `step` away is one of the playground's pages. */
  stayOnPage(step: number): boolean;
  /** The settling test's course page: how many ready events its placeholder fired. */
  readies: number;
  /** The settling test's course page: how a promise of the embed helper settled. */
  settled(
    promise: Promise<EmbedMessage>,
  ): Promise<{ ok: boolean; type?: string; message?: string; detail?: EmbedMessage }>;
  /** The settling test's course page whose embed never starts: how its run() settled. */
  outcome: Promise<string>;
  /** The benchmark's engines, one per kind of request, made once in the page (tests/bench/browser-bench.mjs). */
  benchEngines?: Record<string, import('../../www/js/engine-client.js').Engine>;
  /** axe-core, injected by the accessibility test: the part of its API the test uses. */
  axe: {
    run(
      context: Document,
      options: { runOnly: { type: string; values: string[] } },
    ): Promise<{ violations: AxeViolation[] }>;
  };
}
