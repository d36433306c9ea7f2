/**
 * Typed layouts of the WGSL structs a kernel reads from its uniform buffer. A layout lists the struct's members in
 * declaration order, with WGSL's own names and types, and places them itself: nothing is padded by hand on this side.
 * A WGSL struct may still need padding members (named `_…`, e.g. `_pad0`) to put a nested struct where the uniform
 * address space wants it; the layout computes that offset from the rules, and kernelUniforms.test.ts checks it
 * against the WGSL.
 */

/** A scalar member: 4 bytes, 4-byte aligned. */
export type UniformScalar = 'u32' | 'i32' | 'f32';

/** Members in declaration order (object keys keep insertion order; WGSL names never look like array indices). */
export type UniformFields = { readonly [member: string]: UniformScalar | UniformLayout };

/** A value for every member, nested structs as nested objects, so a missing or misspelt member fails to compile. */
export type UniformValues<Fields extends UniformFields> = {
  readonly [Member in keyof Fields]: Fields[Member] extends UniformLayout<infer Nested> ? UniformValues<Nested> : number;
};

export interface UniformMember {
  readonly name: string;
  readonly type: UniformScalar | UniformLayout;
  /** Bytes from the start of the enclosing struct. */
  readonly offset: number;
}

export interface UniformLayout<Fields extends UniformFields = UniformFields> {
  /** The WGSL struct this mirrors; the layout test looks the struct up by this name. */
  readonly structName: string;
  readonly fields: Fields;
  readonly members: readonly UniformMember[];
  /** WGSL's AlignOf and SizeOf of the struct. */
  readonly align: number;
  readonly size: number;
  /** The struct's bytes, little-endian, in a buffer sized to a multiple of 16 as uniform bindings are. */
  pack(values: UniformValues<Fields>): ArrayBuffer;
}

const SCALAR_BYTES = 4;
const UNIFORM_BUFFER_GRANULE = 16;
// WGSL's uniform address space starts a struct-typed member at a multiple of roundUp(16, its AlignOf) and leaves at
// least roundUp(16, its SizeOf) bytes before the next member ("Address Space Layout Constraints" in the WGSL spec).
const UNIFORM_NESTED_STRUCT_GRANULE = 16;

export function uniformLayout<const Fields extends UniformFields>(structName: string, fields: Fields): UniformLayout<Fields> {
  const members: UniformMember[] = [];
  let align = SCALAR_BYTES;
  let nextFree = 0;
  let pastLast = 0;
  for (const [name, type] of Object.entries(fields)) {
    if (typeof type === 'string') {
      const offset = roundUp(nextFree, SCALAR_BYTES);
      pastLast = nextFree = offset + SCALAR_BYTES;
      members.push({ name, type, offset });
    } else {
      const offset = roundUp(nextFree, roundUp(type.align, UNIFORM_NESTED_STRUCT_GRANULE));
      pastLast = offset + type.size;
      nextFree = offset + roundUp(type.size, UNIFORM_NESTED_STRUCT_GRANULE);
      align = Math.max(align, type.align);
      members.push({ name, type, offset });
    }
  }
  const size = roundUp(pastLast, align);
  const layout: UniformLayout<Fields> = {
    structName,
    fields,
    members,
    align,
    size,
    pack(values) {
      const view = new DataView(new ArrayBuffer(roundUp(size, UNIFORM_BUFFER_GRANULE)));
      write(view, 0, layout, values);
      return view.buffer;
    },
  };
  return layout;
}

// Values arrive typed; the checks catch what a cast slipped past the compiler, instead of uploading a silent 0.
function write(view: DataView, base: number, layout: UniformLayout, values: unknown): void {
  for (const { name, type, offset } of layout.members) {
    const value = (values as Readonly<Record<string, unknown>>)[name];
    const path = `${layout.structName}.${name}`;
    if (typeof type !== 'string') {
      if (typeof value !== 'object' || value === null) throw new Error(`${path} has no value`);
      write(view, base + offset, type, value);
    } else if (typeof value !== 'number') {
      throw new Error(`${path} has no value`);
    } else if (type === 'f32') {
      view.setFloat32(base + offset, value, true);
    } else if (type === 'i32') {
      view.setInt32(base + offset, value, true);
    } else {
      view.setUint32(base + offset, value >>> 0, true);
    }
  }
}

function roundUp(bytes: number, multiple: number): number {
  return Math.ceil(bytes / multiple) * multiple;
}
