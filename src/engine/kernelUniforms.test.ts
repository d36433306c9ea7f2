import { describe, expect, it } from 'vitest';
import {
  attentionParams,
  embedParams,
  estimateShape,
  gatherParams,
  layerNormParams,
  lmHeadParams,
  matmulParams,
  patchEmbedParams,
  scanParams,
  scoreShape,
  selectParams,
} from './kernelUniforms';
import { engineShader, shaderLibrary, techniqueShader } from './shaders';
import { uniformLayout, type UniformLayout } from './uniforms';
import { layoutMismatches, stripWgslComments, uniformStructNames, wgslStructMembers } from './wgslStructs.testutil';

const boundLayouts: readonly UniformLayout[] = [
  attentionParams, embedParams, estimateShape, gatherParams, layerNormParams, lmHeadParams, matmulParams, patchEmbedParams, scanParams, scoreShape, selectParams,
];
const layoutOf = new Map(boundLayouts.map((layout) => [layout.structName, layout]));

/** Every shader a KernelRecorder may dispatch, includes expanded as they are compiled. */
const techniqueSources = import.meta.glob<string>('../techniques/*/*.wgsl', { query: '?raw', import: 'default', eager: true });
const shaders = [
  ...Object.keys(shaderLibrary).map((file) => ({ file: `shaders/${file}`, source: engineShader(file) })),
  ...Object.entries(techniqueSources).map(([path, source]) => ({ file: path.replace('../', 'src/'), source: techniqueShader(source) })),
];
const bindings = shaders.flatMap(({ file, source }) => uniformStructNames(source).map((struct) => ({ file, struct, source })));

describe('each kernel uniform layout matches the WGSL struct it packs', () => {
  it.each(bindings.map(({ file, struct, source }) => [file, struct, source]))('%s: %s', (_file, struct, source) => {
    const layout = layoutOf.get(struct);
    if (!layout) throw new Error(`no layout for ${struct} in src/engine/kernelUniforms.ts`);
    expect(layoutMismatches(layout, source)).toEqual([]);
  });

  it('covers the engine shaders, a technique scorer, and every layout', () => {
    expect(bindings.map((b) => b.file)).toEqual(expect.arrayContaining(['shaders/attention.wgsl', 'src/techniques/fastv/fastvScore.wgsl']));
    const bound = new Set(bindings.map((b) => b.struct));
    expect(boundLayouts.filter((layout) => !bound.has(layout.structName)).map((layout) => layout.structName)).toEqual([]);
  });
});

describe('the layout check', () => {
  const layerNorm = engineShader('layernorm.wgsl');

  it('reports reordered members and a wrong type', () => {
    const reordered = uniformLayout('LayerNormParams', { channels: 'u32', rows: 'u32', row_offset: 'u32', epsilon: 'u32' });
    expect(layoutMismatches(reordered, layerNorm)).toEqual([
      'member 0: layout channels: u32 @ 0, WGSL rows: u32 @ 0',
      'member 1: layout rows: u32 @ 4, WGSL channels: u32 @ 4',
      'member 3: layout epsilon: u32 @ 12, WGSL epsilon: f32 @ 12',
    ]);
  });

  it('reports a missing member and the size it changes', () => {
    const missing = uniformLayout('LayerNormParams', { rows: 'u32', channels: 'u32', row_offset: 'u32' });
    expect(layoutMismatches(missing, layerNorm)).toEqual(['member 3: layout has none, WGSL epsilon: f32 @ 12', 'size: layout 12, WGSL 16']);
  });

  it('reports a WGSL struct without the padding that puts its nested struct on a 16-byte boundary', () => {
    const unpadded = `${engineShader('random.wgsl')}
      struct PatchEmbedParams { channels: u32, patch_size: u32, grid: u32, image_channels: u32, dropout_rate: f32, stream: DropoutStream, }`;
    expect(layoutMismatches(patchEmbedParams, unpadded)).toEqual([
      'member 5: layout stream: DropoutStream @ 32, WGSL stream: DropoutStream @ 20',
      'member 6: layout stream.seed: u32 @ 32, WGSL stream.seed: u32 @ 20',
      'member 7: layout stream.sample: u32 @ 36, WGSL stream.sample: u32 @ 24',
      'member 8: layout stream.site: u32 @ 40, WGSL stream.site: u32 @ 28',
      'member 9: layout stream.layer: u32 @ 44, WGSL stream.layer: u32 @ 32',
      'size: layout 48, WGSL 36',
    ]);
  });

  it('reports a layout whose struct the source lacks', () => {
    expect(layoutMismatches(scoreShape, layerNorm)).toEqual(['no struct ScoreShape in the source']);
  });
});

describe('the WGSL struct parser', () => {
  it('reads members in order, past comments', () => {
    const source = stripWgslComments('/* struct S { old: u32 } */ struct S {\n  a: u32, // counts\n  // b: u32,\n  c: f32\n}');
    expect(wgslStructMembers(source, 'S')).toEqual([{ name: 'a', type: 'u32' }, { name: 'c', type: 'f32' }]);
    expect(uniformStructNames('// var<uniform> old: Old;\n@group(0) @binding(2) var<uniform> params: S;')).toEqual(['S']);
  });

  it('refuses members it cannot lay out', () => {
    expect(() => wgslStructMembers('struct S { v: vec4<f32>, }', 'S')).toThrow('struct S: cannot lay out "v: vec4<f32>"');
    expect(() => wgslStructMembers('struct S { @align(16) s: T, }', 'S')).toThrow('cannot lay out "@align(16) s: T"');
  });
});
