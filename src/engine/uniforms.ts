/** Packs a uniform struct whose fields are all 4-byte scalars, in declaration order (WGSL's layout for such structs). */
export type UniformField = readonly ['u32' | 'i32' | 'f32', number];

export function packUniform(fields: readonly UniformField[]): ArrayBuffer {
  // Uniform bindings are at least 16 bytes and sized in multiples of 16.
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const view = new DataView(new ArrayBuffer(bytes));
  fields.forEach(([type, value], index) => {
    const offset = index * 4;
    if (type === 'f32') view.setFloat32(offset, value, true);
    else if (type === 'i32') view.setInt32(offset, value, true);
    else view.setUint32(offset, value >>> 0, true);
  });
  return view.buffer;
}
