import { ATTENTION_BLOCK, blockCount, wordsPerRow, type BlockEstimator, type EstimatorPass, type KeyBlockLists, type KeySelection } from '../../engine/plan';
import type { TransformerConfig } from '../../models/config';
import type { EstimatorContext, ParamValues, Technique } from '../types';
import boundariesShader from './dhsaBoundaries.wgsl?raw';
import boundaryScoresShader from './dhsaBoundaryScores.wgsl?raw';
import chunkKeysShader from './dhsaChunkKeys.wgsl?raw';
import selectShader from './dhsaSelect.wgsl?raw';

/** ALGORITHM.md's constants that are not parameters: query block B_q, boundary window w, NMS window, instruction I. */
export const DHSA_QUERY_BLOCK = 32;
export const DHSA_BOUNDARY_WINDOW = 4;
export const DHSA_NMS_WINDOW = 4;
export const DHSA_INSTRUCTION = 16;
/** The select kernel's workgroup arrays: keys (32 words of bits), head_dim, chunks. */
const MAX_TOKENS = 1024;
const MAX_HEAD_DIM = 256;

export interface DhsaParams {
  budget: number;
  localTokens: number;
  globalTokens: number;
  chunkMultiplier: number;
}

export function dhsaParams(params: ParamValues): DhsaParams {
  return {
    budget: Number(params['budget']),
    localTokens: Number(params['localTokens']),
    globalTokens: Number(params['globalTokens']),
    chunkMultiplier: Number(params['chunkMultiplier']),
  };
}

const f = Math.fround;

/** z_t of step A (dhsaBoundaryScores.wgsl, float32 op by op in the kernel's order). */
export function boundaryScores(qkv: Float32Array, tokens: number, channels: number, window = DHSA_BOUNDARY_WINDOW): Float32Array {
  const z = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    if (t + 1 < window || t + window >= tokens) {
      z[t] = -100;
      continue;
    }
    let dot = 0;
    let leftNorm = 0;
    let rightNorm = 0;
    for (let c = 0; c < channels; c++) {
      let left = 0;
      let right = 0;
      for (let s = 0; s < window; s++) {
        left = f(left + qkv[(t + 1 - window + s) * 3 * channels + channels + c]!);
        right = f(right + qkv[(t + 1 + s) * 3 * channels + channels + c]!);
      }
      left = f(left / window);
      right = f(right / window);
      dot = f(dot + f(left * right));
      leftNorm = f(leftNorm + f(left * left));
      rightNorm = f(rightNorm + f(right * right));
    }
    const cosine = leftNorm > 0 && rightNorm > 0 ? f(dot / f(f(Math.sqrt(leftNorm)) * f(Math.sqrt(rightNorm)))) : 0;
    z[t] = f(1 - cosine);
  }
  return z;
}

/**
 * Step A's selection (dhsaBoundaries.wgsl): the forced boundary t_I = L − I, then greedy NMS over z > 0 by z
 * descending, ties to the lower t (a repeated argmax over the candidates not yet suppressed, which keeps what the
 * sorted greedy pass keeps), until N_c = (L // 32)·β_c. Returns [0, …sorted kept + 1, L].
 */
export function selectBoundaries(z: Float32Array, tokens: number, chunkMultiplier: number): number[] {
  const kept = new Uint8Array(tokens);
  const suppress = (center: number) => {
    for (let t = Math.max(0, center - DHSA_NMS_WINDOW); t <= center + DHSA_NMS_WINDOW && t < tokens; t++) kept[t] = Math.max(kept[t]!, 1);
    kept[center] = 2;
  };
  if (tokens > DHSA_INSTRUCTION) {
    const forced = tokens - DHSA_INSTRUCTION;
    const target = Math.floor(tokens / DHSA_QUERY_BLOCK) * chunkMultiplier;
    suppress(forced);
    for (let count = 1; count < target; count++) {
      let best = -1;
      for (let t = 0; t <= forced; t++) if (kept[t] === 0 && z[t]! > 0 && (best < 0 || z[t]! > z[best]!)) best = t;
      if (best < 0) break;
      suppress(best);
    }
  }
  const boundaries = [0];
  for (let t = 0; t < tokens; t++) if (kept[t] === 2) boundaries.push(t + 1);
  boundaries.push(tokens);
  return boundaries;
}

/** f32(1/√n) for n = 0 … tokens, uploaded so that GPU and CPU scale the chunk keys alike (index 0 is unused). */
export function inverseSqrtTable(tokens: number): Float32Array {
  return Float32Array.from({ length: tokens + 1 }, (_, n) => (n === 0 ? 0 : 1 / Math.sqrt(n)));
}

/** k̂_c of step B (dhsaChunkKeys.wgsl): the chunk's head-summed keys times 1/√|c|, [chunks, headDim]. */
export function chunkKeys(qkv: Float32Array, boundaries: readonly number[], heads: number, headDim: number, inverseSqrt: Float32Array): Float32Array {
  const channels = heads * headDim;
  const chunks = boundaries.length - 1;
  const out = new Float32Array(chunks * headDim);
  for (let c = 0; c < chunks; c++) {
    const start = boundaries[c]!;
    const end = boundaries[c + 1]!;
    for (let e = 0; e < headDim; e++) {
      let sum = 0;
      for (let t = start; t < end; t++) {
        let headSum = 0;
        for (let h = 0; h < heads; h++) headSum = f(headSum + qkv[t * 3 * channels + channels + h * headDim + e]!);
        sum = f(sum + headSum);
      }
      out[c * headDim + e] = f(sum * inverseSqrt[end - start]!);
    }
  }
  return out;
}

export interface DhsaBlockSelection {
  /** Whether the block chose (false: its rows keep every allowed key). */
  selecting: boolean;
  /** Keys its rows below the instruction may see, ascending. */
  keys: number[];
}

/** The shape of one layer the selection needs. */
export interface DhsaShape {
  tokens: number;
  heads: number;
  headDim: number;
  bidirectionalPrefix: number;
  firstTokenRow: number;
}

/** Step C for every 32-row query block (dhsaSelect.wgsl). */
export function selectKeys(qkv: Float32Array, boundaries: readonly number[], shape: DhsaShape, p: DhsaParams): DhsaBlockSelection[] {
  const { tokens, heads, headDim, bidirectionalPrefix, firstTokenRow } = shape;
  const channels = heads * headDim;
  const keys = chunkKeys(qkv, boundaries, heads, headDim, inverseSqrtTable(tokens));
  const selectionRows = Math.max(0, tokens - DHSA_INSTRUCTION);
  const local = Math.min(p.localTokens, p.budget);
  const take = p.budget - local;
  const chunks = boundaries.length - 1;
  return Array.from({ length: blockCount(tokens, DHSA_QUERY_BLOCK) }, (_, block) => {
    const firstRow = block * DHSA_QUERY_BLOCK;
    const rowsEnd = Math.min(firstRow + DHSA_QUERY_BLOCK, selectionRows);
    const allowed = Math.min(Math.max(firstRow + DHSA_QUERY_BLOCK, bidirectionalPrefix), tokens);
    if (!(rowsEnd > firstRow && allowed > p.budget)) return { selecting: false, keys: Array.from({ length: allowed }, (_, j) => j) };
    const others = allowed - local;
    const query = new Float32Array(headDim);
    for (let e = 0; e < headDim; e++) {
      let sum = 0;
      for (let i = firstRow; i < rowsEnd; i++) {
        let headSum = 0;
        for (let h = 0; h < heads; h++) headSum = f(headSum + qkv[i * 3 * channels + h * headDim + e]!);
        sum = f(sum + headSum);
      }
      query[e] = sum;
    }
    const scores = new Float32Array(chunks);
    for (let c = 0; c < chunks; c++) {
      if (boundaries[c]! >= others) continue;
      let score = 0;
      for (let e = 0; e < headDim; e++) score = f(score + f(query[e]! * keys[c * headDim + e]!));
      scores[c] = score;
    }
    const picked = new Uint8Array(tokens);
    // Chunks are contiguous, so ranking tokens by (score desc, index asc) ranks whole chunks by (score desc, chunk asc).
    for (let c = 0; c < chunks; c++) {
      const start = boundaries[c]!;
      if (start >= others) continue;
      let before = 0;
      for (let o = 0; o < chunks; o++) {
        const otherStart = boundaries[o]!;
        if (otherStart < others && (scores[o]! > scores[c]! || (scores[o] === scores[c] && o < c))) before += Math.min(boundaries[o + 1]!, others) - otherStart;
      }
      const size = Math.min(boundaries[c + 1]!, others) - start;
      const taken = Math.min(size, take - Math.min(take, before));
      for (let j = start; j < start + taken; j++) picked[j] = 1;
    }
    for (let j = others; j < allowed; j++) picked[j] = 1;
    // The lowest `globalTokens` picks give their places to the global tokens (duplicates collapse).
    let removed = 0;
    for (let j = 0; j < tokens && removed < p.globalTokens; j++) {
      if (picked[j]) {
        picked[j] = 0;
        removed++;
      }
    }
    for (let g = 0; g < p.globalTokens; g++) picked[(firstTokenRow + g) % tokens] = 1;
    const chosen: number[] = [];
    for (let j = 0; j < tokens; j++) if (picked[j]) chosen.push(j);
    return { selecting: true, keys: chosen };
  });
}

/** The engine's KeySelection from the blocks' key sets (dhsaSelect.wgsl's mask rows and lists). */
export function selectionFromBlocks(blocks: readonly DhsaBlockSelection[], tokens: number, allowed: KeyBlockLists): KeySelection {
  const words = wordsPerRow(tokens);
  const bits = new Uint32Array(tokens * words);
  const selectionRows = Math.max(0, tokens - DHSA_INSTRUCTION);
  const blockBits = blocks.map((block) => {
    const set = new Uint32Array(words);
    for (const j of block.keys) set[j >>> 5]! |= 1 << (j & 31);
    return set;
  });
  for (let i = 0; i < tokens; i++) {
    const block = Math.floor(i / DHSA_QUERY_BLOCK);
    const limit = i < selectionRows ? blocks[block]!.keys.length : tokens;
    for (let w = 0; w < words; w++) {
      let word = w * 32 + 32 <= limit ? 0xffffffff : w * 32 < limit ? (1 << (limit - w * 32)) - 1 : 0;
      if (i < selectionRows && blocks[block]!.selecting) word = blockBits[block]![w]!;
      bits[i * words + w] = word >>> 0;
    }
  }
  const keyBlocks = allowed.map((headLists) =>
    headLists.map((planned, tile) => {
      const block = Math.floor((tile * ATTENTION_BLOCK) / DHSA_QUERY_BLOCK);
      const lastRow = Math.min(tile * ATTENTION_BLOCK + ATTENTION_BLOCK, tokens) - 1;
      if (!blocks[block]!.selecting || lastRow >= selectionRows) return [...planned];
      const set = blockBits[block]!;
      return planned.filter((k) => {
        for (let j = k * ATTENTION_BLOCK; j < Math.min((k + 1) * ATTENTION_BLOCK, tokens); j++) if ((set[j >>> 5]! >>> (j & 31)) & 1) return true;
        return false;
      });
    }),
  );
  return { keyBlocks, keyMask: { perHead: false, bits } };
}

/** The whole CPU twin of one layer: boundaries from `state` (computed here on layer 0), then the selection. */
export function dhsaReference(qkv: Float32Array, allowed: KeyBlockLists, state: Map<string, unknown>, layer: number, shape: DhsaShape, p: DhsaParams): KeySelection {
  const { tokens, heads, headDim } = shape;
  if (layer === 0 || !state.has('boundaries')) {
    state.set('boundaries', selectBoundaries(boundaryScores(qkv, tokens, heads * headDim), tokens, p.chunkMultiplier));
  }
  const boundaries = state.get('boundaries') as number[];
  return selectionFromBlocks(selectKeys(qkv, boundaries, shape, p), tokens, allowed);
}

/** Tiles holding the global and the recent tokens of each query tile's block, within the plan. */
function forcedTiles(planned: KeyBlockLists, shape: DhsaShape, p: DhsaParams): KeyBlockLists {
  const { tokens, bidirectionalPrefix, firstTokenRow } = shape;
  return planned.map((headLists) =>
    headLists.map((list, tile) => {
      const firstRow = Math.floor((tile * ATTENTION_BLOCK) / DHSA_QUERY_BLOCK) * DHSA_QUERY_BLOCK;
      const allowed = Math.min(Math.max(firstRow + DHSA_QUERY_BLOCK, bidirectionalPrefix), tokens);
      const forced = new Set<number>();
      for (let g = 0; g < Math.min(p.globalTokens, tokens); g++) forced.add(Math.floor(((firstTokenRow + g) % tokens) / ATTENTION_BLOCK));
      for (let j = Math.max(0, allowed - Math.min(p.localTokens, p.budget)); j < allowed; j++) forced.add(Math.floor(j / ATTENTION_BLOCK));
      return list.filter((k) => forced.has(k));
    }),
  );
}

/**
 * The estimate's multiply-adds, by ALGORITHM.md's formula (per layer; the first adds step A):
 * - boundaries (layer 0): T · (2·w·C + 3·C): both window sums over C channels, then the dot and the two norms;
 * - chunk keys: T · C (the head sum of every key) + chunks · d (the 1/√|c| scale);
 * - block queries: (L − I) · C; similarity: d · blocks · chunks;
 * - selection: comparisons and bit operations, no multiply-adds (0).
 * The chunk count is decided on the GPU, so it counts the most there can be: N_c + 1.
 */
export function dhsaCost(config: TransformerConfig, tokens: number, layer: number, chunkMultiplier: number): number {
  const channels = config.n_embd;
  const headDim = channels / config.n_head;
  const chunks = Math.floor(tokens / DHSA_QUERY_BLOCK) * chunkMultiplier + 1;
  const blocks = blockCount(Math.max(0, tokens - DHSA_INSTRUCTION), DHSA_QUERY_BLOCK);
  const boundaries = layer === 0 ? tokens * (2 * DHSA_BOUNDARY_WINDOW * channels + 3 * channels) : 0;
  return boundaries + tokens * channels + chunks * headDim + Math.max(0, tokens - DHSA_INSTRUCTION) * channels + headDim * blocks * chunks;
}

/**
 * DHSA's estimator for one layer (ALGORITHM.md): layer 0's adds step A (boundary scores, then NMS into the
 * 'forward'-scoped `boundaries`, and into the twin's `state`); every layer then scores chunks and selects, one key set
 * per 32-row query block shared by all heads (key mask 'shared'); lists = the planned tiles holding a selected key.
 * Order and rounding: every sum runs in index order in float32 on both sides; the positive factors that cannot change a
 * ranking (1/H of the head averages, the query block's 1/B_q·√rows) are left out, and 1/√|c| comes from an uploaded
 * table, so the GPU and the twin need no division or square root outside step A's cosine.
 * Rows and tokens: query blocks, the instruction tail, recent keys and "the lowest picks" count in the engine's rows;
 * only the global tokens count in the model's order (a ViT's CLS, kept as the last row, is its token 0).
 * Selection is made as if the plan were dense, then intersected with it (a sliding window still holds).
 * Null (the layer runs as planned) past 1024 tokens or a head dimension of 256, the select kernel's workgroup arrays.
 */
export function dhsaEstimator(context: EstimatorContext, params: ParamValues): BlockEstimator | null {
  const { config, tokens, layer, bidirectionalPrefix } = context;
  const p = dhsaParams(params);
  const heads = config.n_head;
  const headDim = config.n_embd / heads;
  if (tokens > MAX_TOKENS || headDim > MAX_HEAD_DIM || context.blockSize !== ATTENTION_BLOCK || 2 * ATTENTION_BLOCK !== DHSA_QUERY_BLOCK) return null;
  const shape: DhsaShape = { tokens, heads, headDim, bidirectionalPrefix, firstTokenRow: config.image?.cls ? tokens - 1 : 0 };
  const maxChunks = Math.floor(tokens / DHSA_QUERY_BLOCK) * p.chunkMultiplier + 1;
  const boundaryPasses: EstimatorPass[] = layer === 0
    ? [
        { label: 'boundary scores', source: () => boundaryScoresShader, constants: { WINDOW: DHSA_BOUNDARY_WINDOW }, bindings: ['qkv', 'shape', { scratch: 'z' }] , workgroups: [Math.ceil(tokens / 64), 1] },
        {
          label: 'boundaries', source: () => boundariesShader,
          constants: { INSTRUCTION: DHSA_INSTRUCTION, NMS_WINDOW: DHSA_NMS_WINDOW, CHUNKS: p.chunkMultiplier },
          bindings: ['shape', { scratch: 'z' }, { scratch: 'kept' }, { scratch: 'boundaries' }], workgroups: [1, 1],
        },
      ]
    : [];
  return {
    technique: 'dhsa',
    passes: [
      ...boundaryPasses,
      { label: 'chunk keys', source: () => chunkKeysShader, constants: {}, bindings: ['qkv', 'shape', { scratch: 'boundaries' }, { data: 'inverse sqrt' }, { scratch: 'chunk keys' }], workgroups: [maxChunks, 1] },
      {
        label: 'select', source: () => selectShader,
        constants: { BUDGET: p.budget, LOCAL: p.localTokens, GLOBAL: p.globalTokens, INSTRUCTION: DHSA_INSTRUCTION },
        bindings: ['qkv', 'allowedCounts', 'allowedIndices', 'counts', 'indices', 'keyMask', 'shape', { scratch: 'boundaries' }, { scratch: 'chunk keys' }],
        workgroups: [blockCount(tokens, DHSA_QUERY_BLOCK), 1],
      },
    ],
    scratch: {
      z: { bytes: 4 * tokens, scope: 'layer' },
      kept: { bytes: 4 * tokens, scope: 'layer' },
      // [count, b_0 = 0, …, b_count−1 = L]: at most N_c + 1 boundaries plus the two ends.
      boundaries: { bytes: 4 * (maxChunks + 3), scope: 'forward' },
      'chunk keys': { bytes: 4 * maxChunks * headDim, scope: 'layer' },
    },
    data: { 'inverse sqrt': inverseSqrtTable(tokens) },
    keyMask: 'shared',
    cost: { macs: dhsaCost(config, tokens, layer, p.chunkMultiplier), intMacs: 0 },
    forced: forcedTiles(context.planned, shape, p),
    reference: (qkv, allowed, state) => dhsaReference(qkv, allowed, state, layer, shape, p),
  };
}

export const dhsa: Technique = {
  id: 'dhsa',
  label: 'DHSA',
  family: 'sparse-attention',
  summary:
    'Splits the keys into chunks where layer 0\'s keys change, scores each chunk against each 32-query block and keeps the best chunks up to a token budget, with the first and most recent tokens always kept.',
  paper: {
    title: 'Long-Context Modeling with Dynamic Hierarchical Sparse Attention for On-Device LLMs',
    authors: 'Siheng Xiong, Joe Zou, Faramarz Fekri, Yae Jee Cho',
    venue: 'arXiv 2510.24606, 2025',
    url: 'https://arxiv.org/abs/2510.24606',
  },
  spec: '../shared/specs/sparse-attention.md §2',
  params: [
    { key: 'budget', label: 'Token budget', kind: 'int', min: 32, max: 1024, step: 16, default: 128, help: 'Keys each block of 32 queries attends to, recent and global tokens included.' },
    { key: 'localTokens', label: 'Recent tokens', kind: 'int', min: 0, max: 256, step: 8, default: 32, help: 'Most recent keys every query block always keeps.' },
    { key: 'globalTokens', label: 'Global tokens', kind: 'int', min: 0, max: 32, step: 1, default: 16, help: 'First tokens of the input every query block always keeps.' },
    { key: 'chunkMultiplier', label: 'Chunks per block', kind: 'int', min: 1, max: 8, step: 1, default: 4, help: 'Target number of chunks per 32 tokens of input (β_c).' },
  ],
  estimateKeyBlocks: dhsaEstimator,
};
