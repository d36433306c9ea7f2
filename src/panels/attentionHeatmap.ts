import { format, interpolateViridis, range, scaleLinear } from 'd3';
import { createPanel, textWidth, tokenText, type Group, type PanelOptions, type Svg } from './svg';

export interface AttentionMapData {
  /** Labels of the ORIGINAL input positions (the map's rows and columns). */
  tokens: string[];
  /** Original positions of the n tokens the layer computed, ascending. */
  positions: Int32Array;
  /** [n, n] row-major over the computed tokens: probs[query * n + key]. */
  probs: Float32Array;
  /** [qBlocks, kBlocks] over the computed tokens, qBlocks = kBlocks = ceil(n / blockSize): 1 where computed. */
  computedTiles: Uint8Array;
  blockSize: number;
  layer: number;
  head: number | 'mean';
  /**
   * Keys at original positions below this are visible to every query; past it attention is causal. 0 for GPT-2,
   * every position for a ViT, the image tokens for a prefix-LM VLM (src/models/config.ts `bidirectionalPrefix`).
   */
  visiblePrefix: number;
}

export interface AttentionHeatmapOptions extends PanelOptions {
  /** Edge of the matrix in pixels. */
  size?: number;
  /** Most cells per edge; longer inputs are max-pooled. */
  maxCells?: number;
  /** Prefix of the hatch pattern's id, for pages that show two maps. */
  idPrefix?: string;
}

/** What a cell shows, in increasing priority when a pooled cell covers several kinds. */
const CellKind = { Masked: 0, Pruned: 1, Skipped: 2, Value: 3 } as const;
type CellKind = (typeof CellKind)[keyof typeof CellKind];

const PRUNED_FILL = '#4a4a4a';
const SKIPPED_FILL = '#c8c8c8';

const MARGIN = { top: 52, right: 130, bottom: 92, left: 64 };
const TOKEN_TICKS_MAX = 40;

export function attentionHeatmap(data: AttentionMapData, options: AttentionHeatmapOptions = {}): SVGSVGElement {
  const size = options.size ?? 480;
  const hatchId = `${options.idPrefix ?? 'attn'}-hatch`;
  const grid = heatmapGrid(data, options.maxCells ?? 128);
  const cell = size / grid.cells;
  const n = data.tokens.length;
  const headText = data.head === 'mean' ? 'mean of heads' : `head ${data.head}`;
  const svg = createPanel(options, MARGIN.left + size + MARGIN.right, MARGIN.top + size + MARGIN.bottom, `Attention, layer ${data.layer}, ${headText}`);
  const tiles = tileCounts(data);
  svg
    .attr('data-skipped-tiles', tiles.skipped)
    .attr('data-pruned-tokens', n - data.positions.length)
    .attr('data-cells', grid.cells);
  const notes = [
    `${n} tokens, ${n - data.positions.length} pruned; ${tiles.skipped} of ${tiles.visible} ${maskName(data)} ${data.blockSize}×${data.blockSize} tiles skipped`,
  ];
  if (grid.span > 1) notes.push(`max-pooled: each cell is the largest value over ${grid.span}×${grid.span} positions`);
  svg
    .append('text')
    .attr('class', 'note')
    .attr('x', 8)
    .attr('y', 34)
    .attr('font-size', 10)
    .selectAll('tspan')
    .data(notes)
    .join('tspan')
    .attr('x', 8)
    .attr('dy', (_, i) => (i === 0 ? 0 : 12))
    .text((d) => d);

  const hatch = svg.append('defs').append('pattern').attr('id', hatchId).attr('patternUnits', 'userSpaceOnUse').attr('width', 6).attr('height', 6);
  hatch.append('rect').attr('width', 6).attr('height', 6).attr('fill', '#f4f4f4');
  hatch.append('path').attr('d', 'M0,6L6,0').attr('stroke', '#c4c4c4').attr('stroke-width', 1);

  const plot = svg.append('g').attr('class', 'matrix').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
  // Masked cells are the hatched background showing through: drawing them would double the element count.
  plot.append('rect').attr('width', size).attr('height', size).attr('fill', `url(#${hatchId})`);
  const kindFill = ['', PRUNED_FILL, SKIPPED_FILL];
  const cells = plot.append('g').attr('class', 'cells');
  for (let q = 0; q < grid.cells; q++) {
    for (let k = 0; k < grid.cells; k++) {
      const kind = grid.kinds[q * grid.cells + k] as CellKind;
      if (kind === CellKind.Masked) continue;
      const value = grid.values[q * grid.cells + k] ?? 0;
      cells
        .append('rect')
        .attr('x', k * cell)
        .attr('y', q * cell)
        .attr('width', cell)
        .attr('height', cell)
        .attr('fill', kind === CellKind.Value ? interpolateViridis(Math.min(1, Math.max(0, value))) : (kindFill[kind] ?? ''))
        .attr('data-kind', ['masked', 'pruned', 'skipped', 'value'][kind] ?? '')
        .attr('data-q', q)
        .attr('data-k', k);
    }
  }
  plot.append('rect').attr('width', size).attr('height', size).attr('fill', 'none').attr('stroke', '#888');

  drawTicks(plot, data, grid, size);
  drawLegend(svg, hatchId, maskName(data), MARGIN.left + size + 24, MARGIN.top, size);
  return svg.node() as SVGSVGElement;
}

export interface HeatmapGrid {
  /** Cells per edge. */
  cells: number;
  /** Original positions per cell edge (1 unless pooled). */
  span: number;
  kinds: Uint8Array;
  values: Float32Array;
}

/** The matrix over original positions, max-pooled down to at most `maxCells` per edge. */
export function heatmapGrid(data: AttentionMapData, maxCells: number): HeatmapGrid {
  const n = data.tokens.length;
  const span = Math.max(1, Math.ceil(n / maxCells));
  const cells = Math.ceil(n / span);
  const kinds = new Uint8Array(cells * cells);
  const values = new Float32Array(cells * cells);
  const classify = classifier(data);
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      const { kind, value } = classify(q, k);
      const index = Math.floor(q / span) * cells + Math.floor(k / span);
      if (kind > (kinds[index] ?? 0)) kinds[index] = kind;
      if (kind === CellKind.Value && value > (values[index] ?? 0)) values[index] = value;
    }
  }
  return { cells, span, kinds, values };
}

/** The hover text of cell (qCell, kCell) of the grid drawn with `maxCells`. */
export function describeCell(data: AttentionMapData, qCell: number, kCell: number, maxCells = 128): string {
  const n = data.tokens.length;
  const span = Math.max(1, Math.ceil(n / maxCells));
  const classify = classifier(data);
  if (span === 1) {
    const { kind, value } = classify(qCell, kCell);
    const what = kind === CellKind.Value ? format('.3f')(value) : [`masked (${maskName(data)})`, 'pruned token', 'skipped tile'][kind];
    return `query '${tokenText(data.tokens[qCell] ?? '')}' (pos ${qCell}) → key '${tokenText(data.tokens[kCell] ?? '')}' (pos ${kCell}): ${what}`;
  }
  const qEnd = Math.min(n, (qCell + 1) * span) - 1;
  const kEnd = Math.min(n, (kCell + 1) * span) - 1;
  let best = -1;
  for (let q = qCell * span; q <= qEnd; q++) {
    for (let k = kCell * span; k <= kEnd; k++) {
      const { kind, value } = classify(q, k);
      if (kind === CellKind.Value) best = Math.max(best, value);
    }
  }
  const what = best < 0 ? 'nothing computed' : `max ${format('.3f')(best)}`;
  return `queries ${qCell * span}–${qEnd} → keys ${kCell * span}–${kEnd}: ${what}`;
}

function classifier(data: AttentionMapData): (q: number, k: number) => { kind: CellKind; value: number } {
  const n = data.positions.length;
  const index = new Int32Array(data.tokens.length).fill(-1);
  data.positions.forEach((position, i) => (index[position] = i));
  const kBlocks = Math.ceil(n / data.blockSize);
  return (q, k) => {
    const qi = index[q] ?? -1;
    const ki = index[k] ?? -1;
    // A pruned token's whole row and column read as pruned, upper triangle included, so it stands out as a line.
    if (qi < 0 || ki < 0) return { kind: CellKind.Pruned, value: 0 };
    if (k > q && k >= data.visiblePrefix) return { kind: CellKind.Masked, value: 0 };
    const tile = data.computedTiles[Math.floor(qi / data.blockSize) * kBlocks + Math.floor(ki / data.blockSize)];
    if (!tile) return { kind: CellKind.Skipped, value: 0 };
    return { kind: CellKind.Value, value: data.probs[qi * n + ki] ?? 0 };
  };
}

/** How the attention mask reads in the panel's words. */
export function maskName(data: AttentionMapData): string {
  if (data.visiblePrefix === 0) return 'causal';
  return data.visiblePrefix >= data.tokens.length ? 'bidirectional' : 'prefix-LM';
}

/**
 * Kernel tiles the mask lets some query see (on or below the diagonal, or with a key in the visible prefix), and
 * how many of them were skipped. Tiles are over the computed tokens, so the prefix is its computed part.
 */
export function tileCounts(data: AttentionMapData): { visible: number; skipped: number } {
  const blocks = Math.ceil(data.positions.length / data.blockSize);
  const prefixBlocks = Math.ceil(data.positions.filter((position) => position < data.visiblePrefix).length / data.blockSize);
  let visible = 0;
  let skipped = 0;
  for (let q = 0; q < blocks; q++) {
    for (let k = 0; k < blocks; k++) {
      if (k > q && k >= prefixBlocks) continue;
      visible++;
      if (!data.computedTiles[q * blocks + k]) skipped++;
    }
  }
  return { visible, skipped };
}

function drawTicks(plot: Group, data: AttentionMapData, grid: HeatmapGrid, size: number): void {
  const n = data.tokens.length;
  const cell = size / grid.cells;
  const useTokens = grid.span === 1 && n <= TOKEN_TICKS_MAX;
  const ticks = useTokens ? range(n) : scaleLinear().domain([0, n - 1]).ticks(8);
  const label = (p: number) => (useTokens ? tokenText(data.tokens[p] ?? '', 8) : String(p));
  const center = (p: number) => (Math.floor(p / grid.span) + 0.5) * cell;
  const fontSize = useTokens ? Math.min(10, Math.max(7, cell * 0.8)) : 10;
  const left = plot.append('g').attr('class', 'y-ticks').attr('font-size', fontSize).attr('text-anchor', 'end');
  const bottom = plot.append('g').attr('class', 'x-ticks').attr('font-size', fontSize).attr('text-anchor', 'end');
  for (const p of ticks) {
    left.append('text').attr('x', -4).attr('y', center(p)).attr('dy', '0.32em').text(label(p));
    bottom
      .append('text')
      .attr('transform', `translate(${center(p)},${size + 6}) rotate(-90)`)
      .attr('dy', '0.32em')
      .text(label(p));
  }
  const tickRoom = useTokens ? Math.max(...ticks.map((p) => textWidth(label(p), fontSize))) : textWidth(String(n), fontSize);
  const what = useTokens ? 'token' : 'position';
  plot.append('text').attr('x', size / 2).attr('y', size + tickRoom + 22).attr('text-anchor', 'middle').text(`key ${what} (attended to)`);
  plot
    .append('text')
    .attr('transform', `translate(${-Math.min(56, tickRoom + 14)},${size / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(`query ${what}`);
}

function drawLegend(svg: Svg, hatchId: string, mask: string, x: number, y: number, size: number): void {
  const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${x},${y})`);
  const rampHeight = Math.min(160, size * 0.5);
  const scale = scaleLinear().domain([0, 1]).range([rampHeight, 0]);
  legend.append('text').attr('y', -8).attr('font-size', 10).text('probability');
  // Fixed [0, 1]: a softmax output never leaves it, and a fixed scale keeps maps comparable across runs.
  const steps = 32;
  legend
    .append('g')
    .attr('class', 'ramp')
    .attr('data-domain', scale.domain().join(','))
    .selectAll('rect')
    .data(range(steps))
    .join('rect')
    .attr('y', (i) => (rampHeight * (steps - 1 - i)) / steps)
    .attr('width', 12)
    .attr('height', rampHeight / steps + 0.5)
    .attr('fill', (i) => interpolateViridis((i + 0.5) / steps));
  legend
    .append('g')
    .attr('class', 'ramp-ticks')
    .attr('font-size', 10)
    .selectAll('text')
    .data(scale.ticks(4))
    .join('text')
    .attr('x', 16)
    .attr('y', (t) => scale(t))
    .attr('dy', '0.32em')
    .text(format('.2~f'));
  const kinds = [
    // Bidirectional attention masks nothing, so it has no masked region to name.
    ...(mask === 'bidirectional' ? [] : [{ label: `${mask} mask`, fill: `url(#${hatchId})` }]),
    { label: 'skipped tile', fill: SKIPPED_FILL },
    { label: 'pruned token', fill: PRUNED_FILL },
  ];
  const swatches = legend
    .append('g')
    .attr('class', 'kinds')
    .attr('transform', `translate(0,${rampHeight + 24})`)
    .selectAll('g')
    .data(kinds)
    .join('g')
    .attr('transform', (_, i) => `translate(0,${i * 18})`);
  swatches.append('rect').attr('width', 12).attr('height', 12).attr('fill', (d) => d.fill).attr('stroke', '#888');
  swatches.append('text').attr('x', 16).attr('y', 6).attr('dy', '0.32em').attr('font-size', 10).text((d) => d.label);
}
