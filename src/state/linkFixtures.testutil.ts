import fixtures from './__fixtures__/links-v1.json';
import { techniques } from '../techniques/registry';
import type { PersistentState } from './persistent';

export interface LinkFixture {
  name: string;
  link: string;
  /** The state the link opened as when it was made. */
  state: PersistentState;
}

// JSON reads `kind` as any string; the fixtures were written from PersistentState values.
export const linksV1 = fixtures.links as LinkFixture[];

/**
 * What a fixture should open as with today's registry: its own state, plus every technique and parameter added since
 * (off, and at its default). `missing` names the added parameters of techniques the link has on, which a note must
 * mention. A removed technique or parameter is not handled here on purpose: links lose something then, and the
 * fixture tests failing is the prompt to look at what.
 */
export function openedToday(fixture: LinkFixture): { state: PersistentState; missing: string[] } {
  const missing: string[] = [];
  const entries = techniques.map((t) => {
    const old = fixture.state.techniques[t.id];
    const enabled = old?.enabled ?? false;
    const params = t.params.map((spec) => {
      const value = old?.params[spec.key];
      if (value === undefined && enabled) missing.push(`${t.id}.${spec.key}`);
      return [spec.key, value ?? (enabled ? (spec.inOlderLinks?.value ?? spec.default) : spec.default)];
    });
    return [t.id, { enabled, params: Object.fromEntries(params) }];
  });
  return { state: { ...fixture.state, techniques: Object.fromEntries(entries) }, missing };
}
