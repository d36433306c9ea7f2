import { describe, expect, it } from 'vitest';
import { preprocessWgsl, WgslIncludeError } from './wgsl';
import { engineShader, shaderLibrary } from './shaders';

describe('the #include preprocessor', () => {
  it('inlines each library file once, recursively', () => {
    const library = { 'a.wgsl': '#include "b.wgsl"\nfn a() {}', 'b.wgsl': 'fn b() {}' };
    const out = preprocessWgsl('#include "a.wgsl"\n#include "b.wgsl"\nfn main() {}', library);
    expect(out.match(/fn b\(\)/g)).toHaveLength(1);
    expect(out.indexOf('fn b()')).toBeLessThan(out.indexOf('fn a()'));
  });

  it('names a missing file and a cycle', () => {
    expect(() => preprocessWgsl('#include "nope.wgsl"', {})).toThrow(new WgslIncludeError('#include "nope.wgsl": no such shader in the library'));
    expect(() => preprocessWgsl('#include "x.wgsl"', { 'x.wgsl': '#include "y.wgsl"', 'y.wgsl': '#include "x.wgsl"' })).toThrow(/cycle: x.wgsl → y.wgsl → x.wgsl/);
  });

  it('leaves no directive in any engine shader', () => {
    for (const name of Object.keys(shaderLibrary)) expect(engineShader(name)).not.toMatch(/#include/);
  });
});
