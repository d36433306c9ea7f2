/**
 * The shared-link format: the location hash holds the persistent state as readable `key=value` pairs, e.g.
 *   #v=2&model=tiny-random-gpt2&prompt=The+quick+brown&image=0&fastv=on&fastv.layer=2&fastv.ratio=0.5&fastv.queries=last&layer=0&head=mean&panels=attention,flops&controls=shown
 * `model` is a bundled folder name or `hub:<repo>@<revision>` (see models/modelSource.ts); `image` is an image
 * model's eval item, or `own` when the sender ran it on an image of their own (the link cannot carry the pixels, so
 * whoever opens it gets the first eval image and a note asking for theirs); `question` is a VLM's question when it is
 * not the eval item's own.
 *
 * Only the techniques that are on are written, each as `<id>=on` followed by every one of its parameters. Writing
 * every parameter, not only those off their default, pins what the sender ran: a later change of a default does not
 * change what an old link shows, and a parameter missing from a link can only mean the link is older than it, which
 * the reader says. So a new technique or parameter leaves every older link readable:
 *   - a technique the link does not name is off; a parameter it does not set takes its default (with a note if its
 *     technique is on);
 *   - an unknown technique or parameter, and a value that is not valid, are left out with a note; the rest is kept;
 *   - v=1 links (every technique written, on or off) read by the same rules: an off technique's parameters are kept
 *     as its settings. A link from a newer version is read as far as this page understands it, with a note.
 * Keys are written in a fixed order ending with `controls`, which is required: a link cut short anywhere before it
 * is refused rather than opened half-read. Only a hash that is not a playground link at all, or is cut short, is an
 * error; the defaults are shown then.
 */
import * as v from 'valibot';
import { modelSourceSpec, parseModelSpec } from '../models/modelSource';
import { techniqueById, techniques } from '../techniques/registry';
import type { ParamSpec, Technique } from '../techniques/types';
import {
  DEFAULT_MODEL_SOURCE,
  DEFAULT_PROMPT,
  defaultImageChoice,
  defaultView,
  MAX_EVAL_ITEMS,
  MAX_HEADS,
  MAX_LAYERS,
  MAX_PROMPT_CHARS,
  PANEL_IDS,
  type LinkedImageChoice,
  type PanelId,
  type PersistentState,
  type TechniqueState,
} from './persistent';

export const URL_VERSION = 2;
/** Far above the longest valid link (a 4096-character prompt fully percent-encoded), so parsing stays cheap. */
const MAX_HASH_CHARS = 65536;
const INT = /^-?\d+$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
/** The last key written, and the one key a link must have: without it the link was cut short. */
const FINAL_KEY = 'controls';

/** A readable link gives a state and notes on what it asked for that the page could not apply as asked. */
export type ParseResult = { state: PersistentState; notes: string[] } | { error: string };

export function serializeState(state: PersistentState): string {
  const pairs: [string, string][] = [
    ['v', String(URL_VERSION)],
    ['model', modelSourceSpec(state.modelSource)],
    ['prompt', state.prompt],
    ['image', state.image.source.kind === 'eval' ? String(state.image.source.item) : OWN_IMAGE],
  ];
  if (state.image.question !== null) pairs.push(['question', state.image.question]);
  for (const technique of techniques) {
    const entry = state.techniques[technique.id];
    if (!entry?.enabled) continue;
    pairs.push([technique.id, 'on']);
    for (const spec of technique.params) pairs.push([paramKey(technique.id, spec), String(entry.params[spec.key] ?? spec.default)]);
  }
  const { view } = state;
  pairs.push(
    ['layer', String(view.layer)],
    ['head', String(view.head)],
    ['panels', PANEL_IDS.filter((p) => view.panels[p]).join(',')],
    [FINAL_KEY, view.controlsHidden ? 'hidden' : 'shown'],
  );
  return '#' + pairs.map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&');
}

export function parseHash(hash: string): ParseResult {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text.length > MAX_HASH_CHARS) return { error: `The link is too long (${text.length} characters after #).` };
  if (!text.startsWith('v=')) {
    return { error: `The link's #… part is not a Sparsity Playground state: it should start with #v=${URL_VERSION}&.` };
  }
  const reader = new LinkReader(new URLSearchParams(text));
  const version = reader.take('v') ?? '';
  if (!INT.test(version) || Number(version) < 1) {
    return { error: `The link has an unreadable version "${clip(version)}"; this page reads links up to v=${URL_VERSION}.` };
  }
  if (!reader.has(FINAL_KEY)) {
    return { error: `The link is incomplete (it may have been cut short): it should end with "${FINAL_KEY}=…".` };
  }
  if (Number(version) > URL_VERSION) {
    reader.note(`This link was made by a newer version of the playground (v=${version}); this page read what it knows of it.`);
  }
  const state = readState(reader);
  noteUnknownKeys(reader);
  return { state, notes: reader.notes };
}

/** What to use in place of a value the link does not give or gives unusably, and how a note says so. */
interface Fallback<T> {
  value: T;
  /** Completes a note: "<what was wrong>; <instead>." */
  instead: string;
}

/** The link's pairs, read key by key: whatever cannot be used as asked becomes a note. */
class LinkReader {
  readonly notes: string[] = [];
  readonly #pairs = new Map<string, string>();
  readonly #taken = new Set<string>();

  constructor(pairs: Iterable<[string, string]>) {
    for (const [key, value] of pairs) {
      const first = this.#pairs.get(key);
      if (first === undefined) this.#pairs.set(key, value);
      else this.note(`The link sets "${clip(key)}" twice; the first value, "${clip(first)}", is used.`);
    }
  }

  note(text: string): void {
    this.notes.push(text);
  }

  has(key: string): boolean {
    return this.#pairs.has(key);
  }

  /** The raw text under `key`, without marking it as read (to tell what an unread key was). */
  peek(key: string): string | undefined {
    return this.#pairs.get(key);
  }

  /** The raw text under `key`, marked as read. */
  take(key: string): string | undefined {
    this.#taken.add(key);
    return this.#pairs.get(key);
  }

  /** The value under `key` read by `schema`; undefined when the link does not set it, the fallback (noted) when unusable. */
  value<T>(key: string, schema: v.GenericSchema<string, T>, fallback: Fallback<T>): T | undefined {
    const text = this.take(key);
    if (text === undefined) return undefined;
    const result = v.safeParse(schema, text, { abortPipeEarly: true });
    if (result.success) return result.output;
    this.note(`${result.issues[0].message}; ${fallback.instead}.`);
    return fallback.value;
  }

  /** The fallback for a key the link does not set, with a note; `why` may guess the reason. */
  absent<T>(key: string, fallback: Fallback<T>, why = ''): T {
    this.note(`The link does not set "${key}"${why}; ${fallback.instead}.`);
    return fallback.value;
  }

  untakenKeys(): string[] {
    return [...this.#pairs.keys()].filter((key) => !this.#taken.has(key));
  }
}

function readState(reader: LinkReader): PersistentState {
  const defaults = defaultView();
  const modelFallback = { value: DEFAULT_MODEL_SOURCE, instead: `the default model, ${modelSourceSpec(DEFAULT_MODEL_SOURCE)}, is used instead` };
  const promptFallback = { value: DEFAULT_PROMPT, instead: 'the default prompt is used instead' };
  const imageFallback = { value: defaultImageChoice().source, instead: 'the first eval image is used instead' };
  const questionFallback = { value: null, instead: "the eval item's own question is used instead" };
  const layerFallback = { value: defaults.layer, instead: `layer ${defaults.layer} is shown instead` };
  const headFallback = { value: defaults.head, instead: 'the mean of heads is shown instead' };
  const controlsFallback = { value: 'shown', instead: 'the controls are shown' };
  return {
    modelSource: reader.value('model', modelSchema(), modelFallback) ?? reader.absent('model', modelFallback),
    prompt: reader.value('prompt', text('prompt'), promptFallback) ?? reader.absent('prompt', promptFallback),
    image: {
      // Absent from links made before image models: the first eval image, as then.
      source: reader.value('image', imageSchema(), imageFallback) ?? imageFallback.value,
      // Absent: the eval item's own question.
      question: reader.value('question', text('question'), questionFallback) ?? null,
    },
    techniques: Object.fromEntries(techniques.map((t) => [t.id, readTechnique(reader, t)])),
    view: {
      layer: reader.value('layer', integer('layer', 0, MAX_LAYERS - 1), layerFallback) ?? reader.absent('layer', layerFallback),
      head: reader.value('head', headSchema(), headFallback) ?? reader.absent('head', headFallback),
      panels: readPanels(reader),
      controlsHidden: reader.value(FINAL_KEY, choice(FINAL_KEY, ['shown', 'hidden']), controlsFallback) === 'hidden',
    },
  };
}

/** A technique the link does not name is off: it is off in v=2 links, and did not exist yet for older ones. */
function readTechnique(reader: LinkReader, technique: Technique): TechniqueState {
  const switchFallback = { value: 'off', instead: `${technique.label} stays off` };
  const enabled = reader.value(technique.id, choice(technique.id, ['on', 'off']), switchFallback) === 'on';
  const params = technique.params.map((spec) => {
    const key = paramKey(technique.id, spec);
    const fallback = { value: spec.default, instead: `${technique.label}'s "${spec.label}" takes its default, ${spec.default}` };
    const value = reader.value(key, paramSchema(key, spec), fallback);
    if (value !== undefined) return [spec.key, value];
    // An off technique's missing parameters change nothing the sender ran, so they need no note.
    if (!enabled) return [spec.key, spec.default];
    const older = spec.inOlderLinks;
    if (!older) return [spec.key, reader.absent(key, fallback, ' (the link may be older than this parameter)')];
    const what = { value: older.value, instead: `it opens with "${spec.label}" at ${older.value}, as the sender ran it` };
    return [spec.key, reader.absent(key, what, ` (the link is older than this parameter: ${older.change})`)];
  });
  return { enabled, params: Object.fromEntries(params) };
}

/** Unknown panel names are left out with a note; the known ones stay. */
function readPanels(reader: LinkReader): Record<PanelId, boolean> {
  const text = reader.take('panels');
  if (text === undefined) return reader.absent('panels', { value: defaultView().panels, instead: 'every panel is shown' });
  const listed = text === '' ? [] : text.split(',');
  for (const name of listed) {
    if (!isPanelId(name)) reader.note(`"panels" names "${clip(name)}", which this page does not have (it has ${PANEL_IDS.join(', ')}); it was left out.`);
  }
  return Object.fromEntries(PANEL_IDS.map((p) => [p, listed.includes(p)])) as Record<PanelId, boolean>;
}

function isPanelId(name: string): name is PanelId {
  return (PANEL_IDS as readonly string[]).includes(name);
}

/**
 * A note for each key nothing read. A technique this page lacks gets one note if the link switched it on; switched
 * off (as v=1 links wrote every technique), it is dropped silently with its parameters: the sender did not run it.
 */
function noteUnknownKeys(reader: LinkReader): void {
  const notedTechniques = new Set<string>();
  for (const key of reader.untakenKeys()) {
    const base = key.split('.')[0] ?? key;
    const technique = techniqueById(base);
    const switchValue = reader.peek(base);
    if (technique) {
      reader.note(`"${clip(key)}" is not a parameter of ${technique.label}; it was left out.`);
    } else if (switchValue === 'off') {
      continue;
    } else if (switchValue === 'on') {
      if (!notedTechniques.has(base)) {
        reader.note(`The link switches on "${clip(base)}", a technique this page does not have (it has ${techniques.map((t) => t.id).join(', ')}); it was left out.`);
      }
      notedTechniques.add(base);
    } else {
      reader.note(`"${clip(key)}" is not a setting this page knows; it was left out.`);
    }
  }
}

/** The `image` value of a link made on the sender's own image. */
const OWN_IMAGE = 'own';

function paramKey(techniqueId: string, spec: ParamSpec): string {
  return `${techniqueId}.${spec.key}`;
}

// encodeURIComponent, but with spaces as + and , : @ / bare: all decode the same and read far better in a link
// (model=hub:openai-community/gpt2@main).
function encode(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+').replace(/%(2C|3A|40|2F)/gi, (escaped) => decodeURIComponent(escaped));
}

function clip(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

function expect(key: string, expected: string) {
  return (issue: v.BaseIssue<unknown>) => `"${key}" should be ${expected}, not "${clip(String(issue.input))}"`;
}

function choice<const Option extends string>(key: string, options: readonly Option[]) {
  return v.picklist(options, expect(key, `one of ${options.join(', ')}`));
}

function integer(key: string, min: number, max: number) {
  const message = expect(key, `an integer from ${min} to ${max}`);
  return v.pipe(v.string(message), v.regex(INT, message), v.transform(Number), v.minValue(min, message), v.maxValue(max, message));
}

function text(key: string) {
  return v.pipe(
    v.string(expect(key, 'text')),
    v.maxLength(MAX_PROMPT_CHARS, (issue) => `"${key}" is ${String(issue.received)} characters long; at most ${MAX_PROMPT_CHARS} are allowed`),
  );
}

/** The parameter's static range: a link is read before the model that bounds layer and head indices is known. */
function paramSchema(key: string, spec: ParamSpec): v.GenericSchema<string, number | string> {
  if (spec.kind === 'choice') return choice(key, spec.options.map((o) => o.value));
  if (spec.kind === 'int') return integer(key, spec.min, spec.max);
  const message = expect(key, `a number from ${spec.min} to ${spec.max}`);
  return v.pipe(v.string(message), v.regex(FLOAT, message), v.transform(Number), v.minValue(spec.min, message), v.maxValue(spec.max, message));
}

function modelSchema() {
  return v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const parsed = parseModelSpec(dataset.value);
      if ('source' in parsed) return parsed.source;
      addIssue({ message: `"model" is not usable: ${parsed.error}` });
      return NEVER;
    }),
  );
}

function imageSchema() {
  const message = expect('image', `an eval item from 0 to ${MAX_EVAL_ITEMS - 1}, or "${OWN_IMAGE}" (the sender's own image)`);
  return v.pipe(
    v.string(message),
    v.check((text) => text === OWN_IMAGE || (INT.test(text) && Number(text) >= 0 && Number(text) < MAX_EVAL_ITEMS), message),
    v.transform((text): LinkedImageChoice['source'] => (text === OWN_IMAGE ? { kind: 'uploaded' } : { kind: 'eval', item: Number(text) })),
  );
}

function headSchema() {
  const message = expect('head', `"mean" or an integer from 0 to ${MAX_HEADS - 1}`);
  return v.pipe(
    v.string(message),
    v.regex(/^(mean|\d+)$/, message),
    v.transform((text) => (text === 'mean' ? ('mean' as const) : Number(text))),
    v.check((head) => head === 'mean' || head < MAX_HEADS, message),
  );
}
