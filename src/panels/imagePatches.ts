import { format } from 'd3';
import type { RgbImage } from '../models/image';
import { createPanel, tokenText, wrapText, type Group, type PanelOptions } from './svg';

export interface ImagePatchesData {
  image: RgbImage;
  /** Patches per side: patch r·grid + c covers pixel rows r·size/grid… and columns c·size/grid…. */
  grid: number;
  /** The model's layer count. */
  layers: number;
  /** The layer in view: pruning and attention are shown as this layer sees them. */
  layer: number;
  head: number | 'mean';
  /** Per patch (row-major): the first layer that no longer computes it; `layers` when every layer does. */
  droppedAt: Int32Array;
  /** Per patch: the attention the output row gives it at `layer`; 0 where the patch is pruned. */
  attention: Float32Array;
  /** The output row's label ("CLS", or a VLM's last question token). */
  outputRow: string;
  /** What the image is (eval item, question, expected answer), shown under the title. */
  caption: string;
}

export interface ImagePatchesOptions extends PanelOptions {
  /** Edge of each of the two views in pixels. */
  viewSize?: number;
  /** Prefix of the ids of the pixel group and hatch pattern, for pages that show two image panels. */
  idPrefix?: string;
}

const GAP = 32;
const SIDE = 8;
const CAPTION_FONT = 11;
const DROPPED_LATER_STROKE = '#e07b00';
/** Darkening of a patch the output row ignores; the most attended one is shown as is. */
const MAX_DIMMING = 0.8;

/**
 * The input image twice, cut into its patch grid. Left: which patches the layer in view computes (pruned ones
 * hatched, ones a later layer drops outlined). Right: the attention the output row gives each patch at that layer,
 * as brightness on a square-root scale (one patch often takes most of it, and a linear scale would leave the rest
 * uniformly dark). Pixels are runs of rects drawn once and reused.
 */
export function imagePatches(data: ImagePatchesData, options: ImagePatchesOptions = {}): SVGSVGElement {
  const view = options.viewSize ?? 256;
  const prefix = options.idPrefix ?? 'image';
  const width = SIDE + view + GAP + view + SIDE;
  const captionLines = wrapText(data.caption, width - 2 * SIDE, CAPTION_FONT);
  const top = 52 + captionLines.length * 13;
  const height = top + view + 24 + 3 * 18 + 8;
  const patches = data.grid * data.grid;
  const pruned = countWhere(data.droppedAt, (at) => at <= data.layer);
  const droppedLater = countWhere(data.droppedAt, (at) => at > data.layer && at < data.layers);
  const headText = data.head === 'mean' ? 'mean of heads' : `head ${data.head}`;
  const svg = createPanel(options, width, height, `Image patches, layer ${data.layer}`)
    .attr('data-patches', patches)
    .attr('data-pruned-patches', pruned)
    .attr('data-dropped-later', droppedLater);

  const perLayer = Array.from({ length: data.layers }, (_, l) => countWhere(data.droppedAt, (at) => at > l));
  const rowText = tokenText(data.outputRow, 8);
  const probability = format('.3f');
  let total = 0;
  for (const value of data.attention) total += value;
  const notes = [...captionLines, `${patches - pruned} of ${patches} patches computed at layer ${data.layer} (per layer: ${perLayer.join(' · ')})`];
  svg
    .append('text')
    .attr('class', 'caption')
    .attr('font-size', CAPTION_FONT)
    .selectAll('tspan')
    .data(notes)
    .join('tspan')
    .attr('x', SIDE)
    .attr('y', (_, i) => 34 + i * 13)
    .text((d) => d);

  const defs = svg.append('defs');
  const pixelsId = `${prefix}-pixels`;
  const hatchId = `${prefix}-hatch`;
  drawPixels(defs.append('g').attr('id', pixelsId).attr('shape-rendering', 'crispEdges'), data.image);
  const hatch = defs.append('pattern').attr('id', hatchId).attr('patternUnits', 'userSpaceOnUse').attr('width', 6).attr('height', 6);
  hatch.append('rect').attr('width', 6).attr('height', 6).attr('fill', '#fff').attr('fill-opacity', 0.75);
  hatch.append('path').attr('d', 'M0,6L6,0').attr('stroke', '#555').attr('stroke-width', 1.2);

  const cell = view / data.grid;
  const patchOrigin = (p: number) => ({ x: (p % data.grid) * cell, y: Math.floor(p / data.grid) * cell });
  const drawView = (x: number, kind: string, label: string): Group => {
    const group = svg.append('g').attr('class', `view view-${kind}`).attr('transform', `translate(${x},${top})`);
    group.append('use').attr('href', `#${pixelsId}`).attr('transform', `scale(${view / data.image.width},${view / data.image.height})`);
    group.append('text').attr('x', 0).attr('y', -6).attr('font-size', 10).text(label);
    return group;
  };
  const hatchPruned = (group: Group) => {
    for (let p = 0; p < patches; p++) {
      const at = data.droppedAt[p]!;
      if (at > data.layer) continue;
      const { x, y } = patchOrigin(p);
      group
        .append('rect')
        .attr('class', 'pruned')
        .attr('data-patch', p)
        .attr('x', x)
        .attr('y', y)
        .attr('width', cell)
        .attr('height', cell)
        .attr('fill', `url(#${hatchId})`)
        .append('title')
        .text(`patch (${Math.floor(p / data.grid)},${p % data.grid}): pruned before layer ${at}`);
    }
  };

  const computed = drawView(SIDE, 'computed', `computed at layer ${data.layer}`);
  hatchPruned(computed);
  for (let p = 0; p < patches; p++) {
    const at = data.droppedAt[p]!;
    if (at <= data.layer || at >= data.layers) continue;
    const { x, y } = patchOrigin(p);
    computed
      .append('rect')
      .attr('class', 'dropped-later')
      .attr('data-patch', p)
      .attr('x', x + 1)
      .attr('y', y + 1)
      .attr('width', cell - 2)
      .attr('height', cell - 2)
      .attr('fill', 'none')
      .attr('stroke', DROPPED_LATER_STROKE)
      .attr('stroke-width', 2)
      .attr('stroke-dasharray', '4 2')
      .append('title')
      .text(`patch (${Math.floor(p / data.grid)},${p % data.grid}): computed here, dropped before layer ${at}`);
  }
  drawGrid(computed, data.grid, cell);

  const attended = drawView(SIDE + view + GAP, 'attention', `attention from '${rowText}' (${headText})`);
  let largest = 0;
  for (let p = 0; p < patches; p++) if (data.droppedAt[p]! > data.layer) largest = Math.max(largest, data.attention[p]!);
  for (let p = 0; p < patches; p++) {
    if (data.droppedAt[p]! <= data.layer) continue;
    const value = data.attention[p]!;
    const { x, y } = patchOrigin(p);
    attended
      .append('rect')
      .attr('class', 'attention')
      .attr('data-patch', p)
      .attr('data-value', value)
      .attr('x', x)
      .attr('y', y)
      .attr('width', cell)
      .attr('height', cell)
      .attr('fill', '#000')
      .attr('fill-opacity', MAX_DIMMING * (1 - (largest > 0 ? Math.sqrt(value / largest) : 0)))
      .append('title')
      .text(`patch (${Math.floor(p / data.grid)},${p % data.grid}): attention ${probability(value)}`);
  }
  hatchPruned(attended);
  drawGrid(attended, data.grid, cell);

  const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${SIDE},${top + view + 14})`).attr('font-size', 10);
  const rows = [
    { text: `pruned: not computed at layer ${data.layer}`, swatch: (g: Group) => g.append('rect').attr('fill', `url(#${hatchId})`).attr('stroke', '#888') },
    {
      text: 'computed here, dropped by a later layer',
      swatch: (g: Group) => g.append('rect').attr('fill', 'none').attr('stroke', DROPPED_LATER_STROKE).attr('stroke-width', 2).attr('stroke-dasharray', '4 2'),
    },
    {
      text: `brighter: more attention from '${rowText}' (√ scale; brightest patch ${probability(largest)}, all patches ${probability(total)})`,
      swatch: (g: Group) => g.append('rect').attr('fill', '#000').attr('fill-opacity', MAX_DIMMING / 2).attr('stroke', '#888'),
    },
  ];
  rows.forEach((row, i) => {
    const item = legend.append('g').attr('transform', `translate(0,${i * 18})`);
    row.swatch(item).attr('width', 12).attr('height', 12);
    item.append('text').attr('x', 18).attr('y', 6).attr('dy', '0.32em').text(row.text);
  });
  return svg.node() as SVGSVGElement;
}

/** The image as rects in pixel units, one per run of equal colour along a row (images are flat-coloured shapes). */
function drawPixels(group: Group, image: RgbImage): void {
  const { width, height, rgb } = image;
  const colourAt = (pixel: number) => `#${[0, 1, 2].map((c) => rgb[pixel * 3 + c]!.toString(16).padStart(2, '0')).join('')}`;
  for (let y = 0; y < height; y++) {
    let start = 0;
    for (let x = 1; x <= width; x++) {
      const colour = colourAt(y * width + start);
      if (x < width && colourAt(y * width + x) === colour) continue;
      group.append('rect').attr('x', start).attr('y', y).attr('width', x - start).attr('height', 1).attr('fill', colour);
      start = x;
    }
  }
}

function drawGrid(group: Group, grid: number, cell: number): void {
  const size = grid * cell;
  let d = '';
  for (let i = 0; i <= grid; i++) d += `M${i * cell},0V${size}M0,${i * cell}H${size}`;
  group.append('path').attr('class', 'patch-grid').attr('d', d).attr('fill', 'none').attr('stroke', '#fff').attr('stroke-opacity', 0.45);
}

function countWhere(values: Int32Array, predicate: (value: number) => boolean): number {
  let count = 0;
  for (const value of values) if (predicate(value)) count++;
  return count;
}
