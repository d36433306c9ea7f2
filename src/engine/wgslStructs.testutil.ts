/**
 * Just enough WGSL to check a uniform layout against the struct it mirrors: struct declarations whose members are
 * `name: type,` with scalar types u32/i32/f32 or other structs. Anything else (vectors, arrays, attributes) is
 * refused rather than laid out wrongly.
 */
import type { UniformLayout } from './uniforms';

export interface WgslMember {
  name: string;
  type: string;
}

const SCALAR_TYPES = new Set(['u32', 'i32', 'f32']);
const SCALAR_BYTES = 4;

export function stripWgslComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*/g, '');
}

/**
 * The members of struct `name` in `source` (comments stripped), in declaration order; undefined if it has no such
 * struct. Only this struct is read, so other structs of the shader may use anything WGSL allows.
 */
export function wgslStructMembers(source: string, name: string): WgslMember[] | undefined {
  const body = new RegExp(`\\bstruct\\s+${name}\\s*\\{([^}]*)\\}`).exec(source)?.[1];
  if (body === undefined) return undefined;
  return body
    .split(',')
    .map((declaration) => declaration.trim())
    .filter((declaration) => declaration !== '')
    .map((declaration) => {
      const member = /^(\w+)\s*:\s*(\w+)$/.exec(declaration);
      if (!member) throw new Error(`struct ${name}: cannot lay out "${declaration}" (only u32, i32, f32 and struct members)`);
      return { name: member[1]!, type: member[2]! };
    });
}

/** The struct type of each `var<uniform>` in `source`. */
export function uniformStructNames(source: string): string[] {
  return [...stripWgslComments(source).matchAll(/var<uniform>\s+\w+\s*:\s*(\w+)/g)].map((binding) => binding[1]!);
}

/** One member; a nested struct's members follow it, flattened under its name ("stream.seed"). */
interface MemberRow {
  path: string;
  type: string;
  offset: number;
}

interface LaidOut {
  rows: MemberRow[];
  align: number;
  size: number;
}

/**
 * A WGSL struct laid out by WGSL's general rules (members at multiples of their AlignOf, SizeOf rounded to the
 * struct's AlignOf). Members named `_…` are padding: they take their bytes but have no row, since a layout places
 * what follows them by the uniform address space's rules instead of listing them.
 */
function layOutWgsl(source: string, name: string): LaidOut {
  const members = wgslStructMembers(source, name);
  if (!members) throw new Error(`no struct ${name} in the source`);
  const rows: MemberRow[] = [];
  let align = SCALAR_BYTES;
  let end = 0;
  for (const member of members) {
    const nested = SCALAR_TYPES.has(member.type) ? null : layOutWgsl(source, member.type);
    const memberAlign = nested?.align ?? SCALAR_BYTES;
    const offset = roundUp(end, memberAlign);
    end = offset + (nested?.size ?? SCALAR_BYTES);
    align = Math.max(align, memberAlign);
    if (member.name.startsWith('_')) continue;
    rows.push({ path: member.name, type: member.type, offset }, ...within(member.name, offset, nested?.rows ?? []));
  }
  return { rows, align, size: roundUp(end, align) };
}

function layOutUniform(layout: UniformLayout): MemberRow[] {
  return layout.members.flatMap(({ name, type, offset }) =>
    typeof type === 'string'
      ? [{ path: name, type, offset }]
      : [{ path: name, type: type.structName, offset }, ...within(name, offset, layOutUniform(type))],
  );
}

/** A nested struct's rows as members of the struct that holds it at `offset`. */
function within(parent: string, offset: number, rows: readonly MemberRow[]): MemberRow[] {
  return rows.map((row) => ({ path: `${parent}.${row.path}`, type: row.type, offset: offset + row.offset }));
}

function describeRow(row: MemberRow | undefined): string {
  return row ? `${row.path}: ${row.type} @ ${row.offset}` : 'has none';
}

/** How `layout` differs from the struct of its name in `source`: member by member, then the size; empty if not at all. */
export function layoutMismatches(layout: UniformLayout, source: string): string[] {
  const code = stripWgslComments(source);
  if (!wgslStructMembers(code, layout.structName)) return [`no struct ${layout.structName} in the source`];
  const wgsl = layOutWgsl(code, layout.structName);
  const ours = layOutUniform(layout);
  const mismatches: string[] = [];
  for (let i = 0; i < Math.max(ours.length, wgsl.rows.length); i++) {
    const [layoutRow, wgslRow] = [describeRow(ours[i]), describeRow(wgsl.rows[i])];
    if (layoutRow !== wgslRow) mismatches.push(`member ${i}: layout ${layoutRow}, WGSL ${wgslRow}`);
  }
  if (layout.size !== wgsl.size) mismatches.push(`size: layout ${layout.size}, WGSL ${wgsl.size}`);
  return mismatches;
}

function roundUp(bytes: number, multiple: number): number {
  return Math.ceil(bytes / multiple) * multiple;
}
