import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError } from './safetensors';

interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Writes a safetensors file; `headerOverride` replaces the generated JSON header to build malformed files. */
function buildFile(tensors: Record<string, RawTensor>, options: { headerOverride?: string; pad?: boolean } = {}) {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  let headerText = options.headerOverride ?? JSON.stringify(header);
  if (options.pad ?? true) headerText += ' '.repeat((8 - (new TextEncoder().encode(headerText).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of Object.values(tensors)) {
    file.set(tensor.bytes, position);
    position += tensor.bytes.length;
  }
  return file.buffer;
}

const f32 = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const u16 = (...values: number[]) => new Uint8Array(new Uint16Array(values).buffer);

const sample = {
  'a.weight': { dtype: 'F32', shape: [2, 3], bytes: f32(1, 2, 3, 4, 5, 6) },
  'a.bias': { dtype: 'F32', shape: [3], bytes: f32(-1, 0.5, 7) },
};

function parseError(bytes: ArrayBuffer): SafetensorsError {
  try {
    parseSafetensors(bytes, 'broken.safetensors');
  } catch (error) {
    if (error instanceof SafetensorsError) return error;
    throw new Error(`expected a SafetensorsError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the parse to fail');
}

describe('parseSafetensors on valid files', () => {
  it('reads F32 tensors, shapes and metadata', () => {
    const file = parseSafetensors(buildFile(sample));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()]).toEqual(['a.weight', 'a.bias']);
    expect(file.tensors.get('a.weight')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect([...file.tensors.get('a.weight')!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...file.tensors.get('a.bias')!.data]).toEqual([-1, 0.5, 7]);
  });

  it('copies tensors whose data is not 4-byte aligned', () => {
    // An unpadded 2-byte-odd header puts the data at an offset no Float32Array view may start at.
    const unaligned = buildFile(sample, {
      headerOverride:
        '{"a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"a.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}} ',
      pad: false,
    });
    expect((8 + new DataView(unaligned).getUint32(0, true)) % 4).not.toBe(0);
    const file = parseSafetensors(unaligned);
    expect([...file.tensors.get('a.weight')!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...file.tensors.get('a.bias')!.data]).toEqual([-1, 0.5, 7]);
  });

  it('converts F16 to float32, including subnormals, infinities and NaN', () => {
    const halves = u16(0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00);
    const file = parseSafetensors(buildFile({ h: { dtype: 'F16', shape: [9], bytes: halves } }));
    expect([...file.tensors.get('h')!.data]).toEqual([1, -2, 0.5, 65504, 2 ** -24, -0, Infinity, -Infinity, NaN]);
  });

  it('converts BF16 to float32', () => {
    const file = parseSafetensors(buildFile({ b: { dtype: 'BF16', shape: [2, 2], bytes: u16(0x3f80, 0xc040, 0x8000, 0x4049) } }));
    expect([...file.tensors.get('b')!.data]).toEqual([1, -3, -0, 3.140625]);
  });

  it('accepts scalars and empty tensors', () => {
    const file = parseSafetensors(
      buildFile({ empty: { dtype: 'F32', shape: [0, 4], bytes: f32() }, scalar: { dtype: 'F32', shape: [], bytes: f32(2) } }),
    );
    expect(file.tensors.get('empty')!.data.length).toBe(0);
    expect([...file.tensors.get('scalar')!.data]).toEqual([2]);
  });
});

describe('parseSafetensors rejects malformed files with a SafetensorsError naming the file', () => {
  const withHeader = (header: unknown, dataBytes = 36) => {
    const bytes = new Uint8Array(buildFile({ data: { dtype: 'F32', shape: [dataBytes / 4], bytes: new Uint8Array(dataBytes) } }, {
      headerOverride: typeof header === 'string' ? header : JSON.stringify(header),
    }));
    return bytes.buffer;
  };
  const entry = (overrides: Record<string, unknown>) => ({ dtype: 'F32', shape: [9], data_offsets: [0, 36], ...overrides });

  const cases: [string, ArrayBuffer, RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5).buffer, /5 bytes, shorter than the 8-byte header length/],
    ['a header longer than the file', buildFile(sample).slice(0, 40), /header claims \d+ bytes but the file has only 32/],
    ['an absurd header length', (() => {
      const bytes = new Uint8Array(16);
      new DataView(bytes.buffer).setBigUint64(0, 2n ** 63n, true);
      return bytes.buffer;
    })(), /over the 104857600-byte limit/],
    ['a header that is not UTF-8', (() => {
      const bytes = new Uint8Array(withHeader('{"x":1}  '));
      bytes[10] = 0xff;
      return bytes.buffer;
    })(), /not valid UTF-8/],
    ['a header that is not JSON', withHeader('{"x": '), /not valid JSON/],
    ['a header that is a JSON array', withHeader([1, 2]), /not a JSON object/],
    ['a header that is JSON null', withHeader('null'), /not a JSON object/],
    ['metadata that is not a string map', withHeader({ __metadata__: { n: 1 } }), /"__metadata__" must be an object of strings/],
    ['an entry that is not an object', withHeader({ t: 3 }), /tensor "t": the entry is not an object/],
    ['a missing dtype', withHeader({ t: entry({ dtype: undefined }) }), /tensor "t": "dtype" is missing/],
    ['an unsupported dtype', withHeader({ t: entry({ dtype: 'I64' }) }), /tensor "t": dtype I64 is not supported \(F32, F16 and BF16 are\)/],
    ['a missing shape', withHeader({ t: entry({ shape: undefined }) }), /tensor "t": "shape" must be an array/],
    ['a negative dimension', withHeader({ t: entry({ shape: [-9] }) }), /tensor "t": "shape" must be an array of non-negative integers/],
    ['a fractional dimension', withHeader({ t: entry({ shape: [4.5, 2] }) }), /"shape" must be an array of non-negative integers/],
    ['missing data_offsets', withHeader({ t: entry({ data_offsets: undefined }) }), /"data_offsets" must be two non-negative integers/],
    ['three data_offsets', withHeader({ t: entry({ data_offsets: [0, 4, 8] }) }), /"data_offsets" must be two/],
    ['offsets past the data', withHeader({ t: entry({ data_offsets: [0, 40] }) }), /\[0, 40\] lie outside the 36-byte data section/],
    ['reversed offsets', withHeader({ t: entry({ data_offsets: [36, 0] }) }), /lie outside/],
    ['a shape that does not match the offsets', withHeader({ t: entry({ shape: [3, 4] }) }), /shape \[3, 4\] of F32 needs 48 bytes, data_offsets hold 36/],
    ['a shape whose size overflows', withHeader({ t: entry({ shape: [2 ** 40, 2 ** 40] }) }), /needs \d.*bytes, data_offsets hold 36/],
    ['overlapping tensors', withHeader({
      t: entry({ shape: [5], data_offsets: [0, 20] }),
      u: entry({ shape: [5], data_offsets: [16, 36] }),
    }), /tensors "t" and "u" overlap/],
    ['a gap between tensors', withHeader({
      t: entry({ shape: [4], data_offsets: [0, 16] }),
      u: entry({ shape: [4], data_offsets: [20, 36] }),
    }), /bytes 16\.\.20 of the data section belong to no tensor/],
    ['bytes after the last tensor', withHeader({ t: entry({ shape: [8], data_offsets: [0, 32] }) }), /bytes 32\.\.36 of the data section belong to no tensor/],
  ];

  it.each(cases)('%s', (_, bytes, message) => {
    const error = parseError(bytes);
    expect(error.fileName).toBe('broken.safetensors');
    expect(error.message).toMatch(/^broken\.safetensors: /);
    expect(error.message).toMatch(message);
  });
});

describe('parseSafetensors fuzz: arbitrary corruption only ever raises SafetensorsError', () => {
  // mulberry32: a tiny seeded generator, so a failing case can be reproduced from its index.
  const seededRandom = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const valid = new Uint8Array(buildFile(sample));
  const headerEnd = 8 + new DataView(valid.buffer).getUint32(0, true);

  /** Returns 'ok' or 'SafetensorsError'; anything else thrown fails the test with the case that caused it. */
  const outcome = (bytes: Uint8Array, what: string): 'ok' | 'SafetensorsError' => {
    try {
      parseSafetensors(bytes.slice().buffer);
      return 'ok';
    } catch (error) {
      if (error instanceof SafetensorsError) return 'SafetensorsError';
      throw new Error(`${what}: threw ${String(error)} instead of a SafetensorsError`, { cause: error });
    }
  };

  it('every truncation of a valid file is rejected', () => {
    for (let length = 0; length < valid.length; length++) {
      expect(outcome(valid.subarray(0, length), `truncated to ${length} bytes`)).toBe('SafetensorsError');
    }
  });

  it('every wrong header length is rejected', () => {
    const random = seededRandom(1);
    const lengths = [
      ...Array.from({ length: valid.length + 8 }, (_, length) => BigInt(length)),
      ...Array.from({ length: 200 }, () => BigInt(Math.floor(random() * 2 ** 32)) << BigInt(Math.floor(random() * 33))),
    ];
    for (const length of lengths) {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setBigUint64(0, length, true);
      // Any other length splits the JSON, or the padding/data, in the wrong place.
      const expected = length === BigInt(headerEnd - 8) ? 'ok' : 'SafetensorsError';
      expect(outcome(bytes, `header length ${length}`)).toBe(expected);
    }
  });

  it('random byte corruption of the header never escapes as another error', () => {
    const random = seededRandom(2);
    let rejected = 0;
    const cases = 500;
    for (let i = 0; i < cases; i++) {
      const bytes = valid.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        bytes[8 + Math.floor(random() * (headerEnd - 8))] = Math.floor(random() * 256);
      }
      if (outcome(bytes, `case ${i}`) === 'SafetensorsError') rejected++;
    }
    // Some flips land harmlessly (inside a tensor name, on padding); most must break the header.
    expect(rejected).toBeGreaterThan(cases / 2);
  });

  it('random well-formed headers with random field values never escape as another error', () => {
    const random = seededRandom(3);
    const pick = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)]!;
    const number = () => pick([0, 1, 3, 4, 12, 24, 36, -1, 0.5, 2 ** 53, 1e300, NaN]);
    const value = (): unknown =>
      pick([
        () => number(),
        () => pick(['F32', 'F16', 'BF16', 'I8', 'F64', '', 'f32']),
        () => null,
        () => [number(), number()],
        () => Array.from({ length: Math.floor(random() * 4) }, number),
        () => ({ dtype: pick(['F32', 'F16', 'BF16', 'U8']), shape: [number(), number()], data_offsets: [number(), number()] }),
      ])();
    for (let i = 0; i < 300; i++) {
      const header: Record<string, unknown> = {};
      const entries = Math.floor(random() * 4);
      for (let e = 0; e < entries; e++) {
        header[pick(['t', 'u', '__metadata__', '__proto__', 'constructor'])] = pick([
          () => value(),
          () => ({ dtype: value(), shape: value(), data_offsets: value() }),
        ])();
      }
      const bytes = new Uint8Array(buildFile(sample, { headerOverride: JSON.stringify(header) }));
      const result = outcome(bytes, `case ${i}: ${JSON.stringify(header)}`);
      if (result === 'ok') {
        for (const tensor of parseSafetensors(bytes.buffer).tensors.values()) {
          expect(tensor.data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));
        }
      }
    }
  });
});
