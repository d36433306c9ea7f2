import { describe, expect, it } from 'vitest';
import { uniformLayout } from './uniforms';

describe('uniform layouts', () => {
  const scalars = uniformLayout('Scalars', { a: 'u32', b: 'f32', c: 'i32', d: 'u32', e: 'u32' });

  it('place 4-byte scalars in order and pack them into a buffer sized to a multiple of 16', () => {
    expect(scalars.members.map((m) => m.offset)).toEqual([0, 4, 8, 12, 16]);
    expect(scalars.size).toBe(20);
    const view = new DataView(scalars.pack({ a: 7, b: 0.5, c: -1, d: 2 ** 32 - 1, e: 3 }));
    expect(view.byteLength).toBe(32);
    expect([view.getUint32(0, true), view.getFloat32(4, true), view.getInt32(8, true), view.getUint32(12, true), view.getUint32(16, true)]).toEqual([7, 0.5, -1, 4294967295, 3]);
  });

  it('start a nested struct at a 16-byte boundary and leave it 16-rounded room, as the uniform address space requires', () => {
    const pair = uniformLayout('Pair', { x: 'u32', y: 'f32' });
    const outer = uniformLayout('Outer', { a: 'u32', pair, b: 'u32' });
    expect(outer.members.map((m) => [m.name, m.offset])).toEqual([['a', 0], ['pair', 16], ['b', 32]]);
    expect(outer.size).toBe(36);
    const view = new DataView(outer.pack({ a: 1, pair: { x: 2, y: 0.25 }, b: 3 }));
    expect(view.byteLength).toBe(48);
    expect([view.getUint32(16, true), view.getFloat32(20, true), view.getUint32(32, true)]).toEqual([2, 0.25, 3]);
  });

  it('reject a missing or misspelt member when compiling and, past a cast, when packing', () => {
    const params = uniformLayout('Params', { tokens: 'u32', channels: 'u32' });
    // @ts-expect-error: `channels` is missing.
    expect(() => params.pack({ tokens: 1 })).toThrow('Params.channels has no value');
    // @ts-expect-error: `chanels` is not a member.
    expect(() => params.pack({ tokens: 1, chanels: 2 })).toThrow('Params.channels has no value');
    const nested = uniformLayout('Nested', { params });
    // @ts-expect-error: the nested struct is missing.
    expect(() => nested.pack({})).toThrow('Nested.params has no value');
  });
});
