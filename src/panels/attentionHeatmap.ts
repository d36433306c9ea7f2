import { format, interpolateViridis, range, scaleLinear } from 'd3';
import { keyVisible, type TokenMask } from '../engine/plan';
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
  /**
   * With a GPU estimator (SALE, DHSA): [qBlocks, kBlocks], 1 where the method computes the tile whatever its estimate
   * says (sink, local band, diagonal); the other computed tiles are the ones the estimate chose. Null otherwise.
   */
  forcedTiles: Uint8Array | null;
  blockSize: number;
  layer: number;
  head: number | 'mean';
  /**
   * Keys at original positions below this are visible to every query; past it attention is causal. 0 for GPT-2,
   * every position for a ViT, the image tokens for a prefix-LM VLM (src/models/config.ts `bidirectionalPrefix`).
   */
  visiblePrefix: number;
  /**
   * The layer's mask over its computed rows when a token window or an estimator's key mask narrows it, else null: a
   * key outside the window (or not selected) in a computed tile reads as masked, not as a visible key with
   * probability 0.
   */
  windowMask: TokenMask | null;
  /** The head whose key mask `windowMask` applies (0 for a mask the heads share). */
  maskHead: number;
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
/** Most tick labels per axis; a longer input labels every few tokens (each label's <title> gives its full text). */
const TOKEN_TICKS_MAX = 40;
/** Characters of a tick label, and of the text of a pooled cell's positions in its hover readout. */
const TICK_CHARS = 8;
const SPAN_TEXT_CHARS = 24;

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
  const sources = drawTileSources(plot, data, grid, size);

  drawTicks(plot, data, grid, size);
  drawLegend(svg, hatchId, maskedLabels(data), MARGIN.left + size + 24, MARGIN.top, size, sources);
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
    const { kind, value, maskedBy } = classify(qCell, kCell);
    const what = kind === CellKind.Value ? format('.3f')(value) : [`masked (${maskedBy})`, 'pruned token', 'skipped tile'][kind];
    return `query '${tokenText(data.tokens[qCell] ?? '')}' (pos ${qCell}) → key '${tokenText(data.tokens[kCell] ?? '')}' (pos ${kCell}): ${what}`;
  }
  const qEnd = Math.min(n, (qCell + 1) * span) - 1;
  const kEnd = Math.min(n, (kCell + 1) * span) - 1;
  // The text under a pooled cell, so a reader can tell what it covers without counting positions.
  const spanText = (start: number, end: number) => `'${tokenText(data.tokens.slice(start, end + 1).join(''), SPAN_TEXT_CHARS)}'`;
  let best = -1;
  for (let q = qCell * span; q <= qEnd; q++) {
    for (let k = kCell * span; k <= kEnd; k++) {
      const { kind, value } = classify(q, k);
      if (kind === CellKind.Value) best = Math.max(best, value);
    }
  }
  const what = best < 0 ? 'nothing computed' : `max ${format('.3f')(best)}`;
  return `queries ${qCell * span}–${qEnd} ${spanText(qCell * span, qEnd)} → keys ${kCell * span}–${kEnd} ${spanText(kCell * span, kEnd)}: ${what}`;
}

/** What cell (q, k) over original positions shows; `maskedBy` names the mask that hides a masked one. */
function classifier(data: AttentionMapData): (q: number, k: number) => { kind: CellKind; value: number; maskedBy?: string } {
  const n = data.positions.length;
  const index = new Int32Array(data.tokens.length).fill(-1);
  data.positions.forEach((position, i) => (index[position] = i));
  const kBlocks = Math.ceil(n / data.blockSize);
  return (q, k) => {
    const qi = index[q] ?? -1;
    const ki = index[k] ?? -1;
    // A pruned token's whole row and column read as pruned, upper triangle included, so it stands out as a line.
    if (qi < 0 || ki < 0) return { kind: CellKind.Pruned, value: 0 };
    if (k > q && k >= data.visiblePrefix) return { kind: CellKind.Masked, value: 0, maskedBy: maskName(data) };
    const tile = data.computedTiles[Math.floor(qi / data.blockSize) * kBlocks + Math.floor(ki / data.blockSize)];
    if (!tile) return { kind: CellKind.Skipped, value: 0 };
    // The window is stated over the layer's rows, which pruning renumbers: test it on the computed indices.
    if (data.windowMask && !keyVisible(data.windowMask, qi, ki, data.maskHead)) {
      return { kind: CellKind.Masked, value: 0, maskedBy: data.windowMask.tokenWindow ? WINDOW_MASK : KEY_MASK };
    }
    return { kind: CellKind.Value, value: data.probs[qi * n + ki] ?? 0 };
  };
}

const WINDOW_MASK = 'outside sinks + window';
const KEY_MASK = 'key not selected';

/** The legend's names for the hatched region, one line each (none when nothing is masked). */
function maskedLabels(data: AttentionMapData): string[] {
  const parts = [
    maskName(data) === 'bidirectional' ? null : `${maskName(data)} mask`,
    data.windowMask?.tokenWindow ? 'outside window' : null,
    data.windowMask?.keyMask ? 'key not selected' : null,
  ];
  return parts.filter((part) => part !== null);
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

const CHOSEN_STROKE = '#ff7f0e';
const FORCED_STROKE = '#ffffff';

/**
 * With an estimator, outlines each computed tile by who decided it: forced by the method (white) or chosen by the
 * estimate (orange). Tiles are over the computed tokens; without pruning they sit on the map's own grid. Returns
 * whether it drew (so the legend names the outlines).
 */
function drawTileSources(plot: Group, data: AttentionMapData, grid: HeatmapGrid, size: number): boolean {
  const forced = data.forcedTiles;
  // Pruned tokens renumber the computed rows, so a tile no longer covers a square of original positions.
  if (!forced || data.positions.length !== data.tokens.length) return false;
  const blocks = Math.ceil(data.positions.length / data.blockSize);
  const edge = (size / grid.cells) * (data.blockSize / grid.span);
  const outlines = plot.append('g').attr('class', 'tile-sources').attr('fill', 'none').attr('stroke-width', Math.max(0.5, Math.min(1.5, edge / 12)));
  for (let q = 0; q < blocks; q++) {
    for (let k = 0; k < blocks; k++) {
      if (!data.computedTiles[q * blocks + k]) continue;
      const isForced = forced[q * blocks + k] === 1;
      outlines
        .append('rect')
        .attr('x', k * edge + 0.5)
        .attr('y', q * edge + 0.5)
        .attr('width', Math.max(0, edge - 1))
        .attr('height', Math.max(0, edge - 1))
        .attr('stroke', isForced ? FORCED_STROKE : CHOSEN_STROKE)
        .attr('data-source', isForced ? 'forced' : 'estimate');
    }
  }
  return true;
}

/**
 * Tokens on both axes: every one when they fit, else every `step`-th, a multiple of the pooling span so each label
 * sits on its own cell. A label shows the token's first characters; its <title> (a hover tooltip) gives it whole.
 */
function drawTicks(plot: Group, data: AttentionMapData, grid: HeatmapGrid, size: number): void {
  const n = data.tokens.length;
  const cell = size / grid.cells;
  const step = grid.span * Math.ceil(n / TOKEN_TICKS_MAX / grid.span);
  const ticks = range(0, n, step);
  const label = (p: number) => tokenText(data.tokens[p] ?? '', TICK_CHARS);
  const title = (p: number) => `position ${p}: '${tokenText(data.tokens[p] ?? '', Infinity)}'`;
  const center = (p: number) => (Math.floor(p / grid.span) + 0.5) * cell;
  const fontSize = Math.min(10, Math.max(7, (cell * step) / grid.span * 0.8));
  const left = plot.append('g').attr('class', 'y-ticks').attr('font-size', fontSize).attr('text-anchor', 'end');
  const bottom = plot.append('g').attr('class', 'x-ticks').attr('font-size', fontSize).attr('text-anchor', 'end');
  for (const p of ticks) {
    const y = left.append('text').attr('x', -4).attr('y', center(p)).attr('dy', '0.32em').text(label(p));
    y.append('title').text(title(p));
    const x = bottom
      .append('text')
      .attr('transform', `translate(${center(p)},${size + 6}) rotate(-90)`)
      .attr('dy', '0.32em')
      .text(label(p));
    x.append('title').text(title(p));
  }
  const tickRoom = Math.max(...ticks.map((p) => textWidth(label(p), fontSize)));
  const thinned = step === 1 ? '' : `1 in ${step} labelled`;
  plot
    .append('text')
    .attr('x', size / 2)
    .attr('y', size + tickRoom + 22)
    .attr('text-anchor', 'middle')
    .text(`key token (attended to${thinned && `; ${thinned}`})`);
  plot
    .append('text')
    .attr('transform', `translate(${-Math.min(56, tickRoom + 14)},${size / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(`query token${thinned && ` (${thinned})`}`);
}

function drawLegend(svg: Svg, hatchId: string, masked: readonly string[], x: number, y: number, size: number, tileSources: boolean): void {
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
    // Bidirectional attention without a window masks nothing, so it has no masked region to name.
    ...masked.map((label) => ({ label, fill: `url(#${hatchId})` })),
    { label: 'skipped tile', fill: SKIPPED_FILL },
    { label: 'pruned token', fill: PRUNED_FILL },
    ...(tileSources
      ? [
          { label: 'tile chosen by estimate', fill: 'none', stroke: CHOSEN_STROKE },
          { label: 'tile forced (sink, band, diagonal)', fill: '#999', stroke: FORCED_STROKE },
        ]
      : []),
  ];
  const swatches = legend
    .append('g')
    .attr('class', 'kinds')
    .attr('transform', `translate(0,${rampHeight + 24})`)
    .selectAll('g')
    .data(kinds)
    .join('g')
    .attr('transform', (_, i) => `translate(0,${i * 18})`);
  swatches
    .append('rect')
    .attr('width', 12)
    .attr('height', 12)
    .attr('fill', (d) => d.fill)
    .attr('stroke', (d) => ('stroke' in d ? d.stroke : '#888'))
    .attr('stroke-width', (d) => ('stroke' in d ? 2 : null));
  swatches.append('text').attr('x', 16).attr('y', 6).attr('dy', '0.32em').attr('font-size', 10).text((d) => d.label);
}
