/**
 * The shared-link format: the location hash holds the whole persistent state as readable `key=value` pairs, e.g.
 *   #v=1&model=tiny-random-gpt2&prompt=The+quick+brown&fastv=on&fastv.layer=2&…&layer=0&head=mean&panels=attention,flops&controls=shown
 * `model` is a bundled folder name or `hub:<repo>@<revision>` (see models/modelSource.ts); `image` is an image
 * model's eval item, or `own` when the sender ran it on an image of their own (the link cannot carry the pixels, so
 * whoever opens it gets the first eval image and a note asking for theirs); `question` is a VLM's question when it is
 * not the eval item's own.
 * Keys are written in a fixed order ending with `controls`, and every key is required except two that may be
 * absent: `question` (absent: the eval item's own question) and `image` (absent from links made before image
 * models: the first eval image). Since the last key is required, a link cut short anywhere still fails to parse
 * instead of silently falling back to defaults; a teacher can still edit any value by hand.
 */
import * as v from 'valibot';
import { modelSourceSpec, parseModelSpec, type ModelSource } from '../models/modelSource';
import { techniqueById, techniques } from '../techniques/registry';
import type { ParamSpec } from '../techniques/types';
import {
  defaultImageChoice,
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

export const URL_VERSION = 1;
/** Far above the longest valid link (a 4096-character prompt fully percent-encoded), so parsing stays cheap. */
const MAX_HASH_CHARS = 65536;
const INT = /^-?\d+$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

export type ParseResult = { state: PersistentState } | { error: string };

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
    pairs.push([technique.id, entry?.enabled ? 'on' : 'off']);
    for (const spec of technique.params) pairs.push([paramKey(technique.id, spec), String(entry?.params[spec.key] ?? spec.default)]);
  }
  const { view } = state;
  pairs.push(
    ['layer', String(view.layer)],
    ['head', String(view.head)],
    ['panels', PANEL_IDS.filter((p) => view.panels[p]).join(',')],
    ['controls', view.controlsHidden ? 'hidden' : 'shown'],
  );
  return '#' + pairs.map(([key, value]) => `${encode(key)}=${encode(value)}`).join('&');
}

export function parseHash(hash: string): ParseResult {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text.length > MAX_HASH_CHARS) return { error: `The link is too long (${text.length} characters after #).` };
  if (!text.startsWith('v=')) {
    return { error: `The link's #… part is not a Sparsity Playground state: it should start with #v=${URL_VERSION}&.` };
  }
  const record: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in record) return { error: `The link sets "${key}" twice.` };
    record[key] = value;
  }
  const version = record['v'] ?? '';
  if (version !== String(URL_VERSION)) {
    const why = !INT.test(version)
      ? `has an unreadable version "${clip(version)}"`
      : Number(version) > URL_VERSION
        ? `was made by a newer version of the playground (v=${version})`
        : `was made by an older version of the playground (v=${version}) that this page no longer reads`;
    return { error: `The link ${why}; this page reads v=${URL_VERSION} links.` };
  }
  const missing = Object.keys(linkSchema.entries).filter((key) => !(key in record) && !OPTIONAL_KEYS.has(key));
  if (missing.length > 0) {
    const names = missing.slice(0, 3).map((key) => `"${key}"`).join(', ');
    const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
    return { error: `The link is incomplete (it may have been cut short): ${names}${more} missing.` };
  }
  const result = v.safeParse(linkSchema, record, { abortPipeEarly: true });
  if (!result.success) {
    const problems = result.issues.slice(0, 3).map((issue) => issue.message);
    const more = result.issues.length > 3 ? ` (and ${result.issues.length - 3} more)` : '';
    return { error: `The link could not be read: ${problems.join('; ')}${more}.` };
  }
  return { state: toState(result.output) };
}

const OPTIONAL_KEYS: ReadonlySet<string> = new Set(['image', 'question']);
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

function choice(key: string, options: readonly string[]) {
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

function paramSchema(key: string, spec: ParamSpec) {
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

function panelsSchema() {
  const message = expect('panels', `a comma-separated list of ${PANEL_IDS.join(', ')} (each at most once)`);
  return v.pipe(
    v.string(message),
    v.transform((text) => (text === '' ? [] : text.split(','))),
    v.check((list) => list.every((p) => (PANEL_IDS as readonly string[]).includes(p)) && new Set(list).size === list.length, message),
  );
}

// parseHash reports missing keys before parsing, so strictObject's own issues are only about unknown keys.
function unknownKeyMessage(issue: v.BaseIssue<unknown>): string {
  const key = String(issue.input);
  const value = issue.path?.[0]?.value;
  const base = key.split('.')[0] ?? key;
  if (techniqueById(base)) return `"${key}" is not a parameter of technique "${base}"`;
  if (key.includes('.') || value === 'on' || value === 'off') {
    return `unknown technique "${clip(base)}" (this page knows ${techniques.map((t) => t.id).join(', ')})`;
  }
  return `unknown key "${clip(key)}"`;
}

const linkSchema = v.strictObject(
  {
    v: v.literal(String(URL_VERSION)),
    model: modelSchema(),
    prompt: text('prompt'),
    image: v.optional(imageSchema()),
    question: v.optional(text('question')),
    ...Object.fromEntries(
      techniques.flatMap((t) => [
        [t.id, choice(t.id, ['on', 'off'])],
        ...t.params.map((spec) => [paramKey(t.id, spec), paramSchema(paramKey(t.id, spec), spec)]),
      ]),
    ),
    layer: integer('layer', 0, MAX_LAYERS - 1),
    head: headSchema(),
    panels: panelsSchema(),
    controls: choice('controls', ['shown', 'hidden']),
  },
  unknownKeyMessage,
);

// The schema is built from the registry, so its output type is only known as a record: the reads below are safe
// because every key was validated above.
function toState(output: Record<string, unknown>): PersistentState {
  const techniqueStates: Record<string, TechniqueState> = {};
  for (const t of techniques) {
    techniqueStates[t.id] = {
      enabled: output[t.id] === 'on',
      params: Object.fromEntries(t.params.map((spec) => [spec.key, output[paramKey(t.id, spec)] as number | string])),
    };
  }
  const visible = new Set(output['panels'] as string[]);
  return {
    modelSource: output['model'] as ModelSource,
    prompt: output['prompt'] as string,
    image: {
      source: (output['image'] as LinkedImageChoice['source'] | undefined) ?? defaultImageChoice().source,
      question: (output['question'] as string | undefined) ?? null,
    },
    techniques: techniqueStates,
    view: {
      layer: output['layer'] as number,
      head: output['head'] as number | 'mean',
      panels: Object.fromEntries(PANEL_IDS.map((p) => [p, visible.has(p)])) as Record<PanelId, boolean>,
      controlsHidden: output['controls'] === 'hidden',
    },
  };
}
