import { format, max, scaleBand, scaleLinear, schemeTableau10, select, sum } from 'd3';
import { createPanel, textWidth, wrapText, type PanelOptions } from './svg';

export const FLOP_PARTS = ['qkv', 'attnScores', 'attnValues', 'attnOut', 'mlpUp', 'mlpDown', 'lmHead', 'overhead', 'patchEmbedding'] as const;
export type FlopPart = (typeof FLOP_PARTS)[number];

export const FLOP_PART_LABELS: Record<FlopPart, string> = {
  qkv: 'QKV projection',
  attnScores: 'attention QKᵀ',
  attnValues: 'attention PV',
  attnOut: 'attention out-proj',
  mlpUp: 'MLP up',
  mlpDown: 'MLP down',
  lmHead: 'LM head',
  overhead: 'technique overhead',
  patchEmbedding: 'patch embedding',
};

/** Parts only some models have: listed in the legend only when a bar shows them. */
const OPTIONAL_PARTS: ReadonlySet<FlopPart> = new Set(['patchEmbedding']);

/** FLOPs per part; a missing part counts as 0. */
export type FlopSplit = Partial<Record<FlopPart, number>>;

export interface FlopsPanelData {
  /**
   * One bar per transformer layer, then the output head as its own entry (label "LM head" or "classifier", part
   * `lmHead`); an image model's patch embedding comes first (part `patchEmbedding`).
   */
  layers: { label: string; dense: FlopSplit; current: FlopSplit }[];
  /** How FLOPs are counted, shown under the chart, e.g. "2 FLOP per multiply-add; softmax, norms not counted". */
  convention: string;
}

const MARGIN = { top: 36, right: 170, bottom: 64, left: 64 };
const PLOT_HEIGHT = 220;

export function total(split: FlopSplit): number {
  return sum(FLOP_PARTS, (part) => split[part] ?? 0);
}

/** The largest of GFLOP, MFLOP, kFLOP that keeps `value` at 1 or more, so ticks read as small numbers. */
export function flopUnit(value: number): { name: string; scale: number } {
  if (value >= 1e9) return { name: 'GFLOP', scale: 1e9 };
  if (value >= 1e6) return { name: 'MFLOP', scale: 1e6 };
  return { name: 'kFLOP', scale: 1e3 };
}

export function flopsBars(data: FlopsPanelData, options: PanelOptions = {}): SVGSVGElement {
  const plotWidth = Math.max(240, data.layers.length * 40);
  const width = MARGIN.left + plotWidth + MARGIN.right;
  const conventionLines = wrapText(data.convention, width - 16, 10);
  const height = MARGIN.top + PLOT_HEIGHT + MARGIN.bottom + 13 * (conventionLines.length - 1);
  const svg = createPanel(options, width, height, 'FLOPs per layer');
  const denseTotal = sum(data.layers, (l) => total(l.dense));
  const currentTotal = sum(data.layers, (l) => total(l.current));
  const top = max(data.layers, (l) => Math.max(total(l.dense), total(l.current))) ?? 0;
  const unit = flopUnit(top);
  const amount = (flops: number) => `${format(',.3~f')(flops / unit.scale)} ${unit.name}`;

  const x = scaleBand<number>().domain(data.layers.map((_, i) => i)).range([0, plotWidth]).paddingInner(0.25).paddingOuter(0.15);
  const y = scaleLinear().domain([0, top > 0 ? top / unit.scale : 1]).nice().range([PLOT_HEIGHT, 0]);
  const plot = svg.append('g').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);

  const yAxis = plot.append('g').attr('class', 'y-axis').attr('font-size', 10).attr('text-anchor', 'end');
  for (const tick of y.ticks(5)) {
    yAxis.append('line').attr('x1', 0).attr('x2', plotWidth).attr('y1', y(tick)).attr('y2', y(tick)).attr('stroke', '#e6e6e6');
    yAxis.append('text').attr('x', -6).attr('y', y(tick)).attr('dy', '0.32em').text(format(',~g')(tick));
  }
  plot
    .append('text')
    .attr('transform', `translate(-48,${PLOT_HEIGHT / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(`FLOPs (${unit.name})`);

  const color = (part: FlopPart) => schemeTableau10[FLOP_PARTS.indexOf(part)] ?? '#999';
  const bars = plot
    .append('g')
    .attr('class', 'bars')
    .selectAll('g')
    .data(data.layers)
    .join('g')
    .attr('class', 'bar')
    .attr('data-label', (l) => l.label)
    .attr('transform', (_, i) => `translate(${x(i) ?? 0},0)`);
  const band = x.bandwidth();
  // The dense count is an outline behind the stack, so the gap between them is the saving.
  bars
    .append('rect')
    .attr('class', 'dense')
    .attr('y', (l) => y(total(l.dense) / unit.scale))
    .attr('width', band)
    .attr('height', (l) => PLOT_HEIGHT - y(total(l.dense) / unit.scale))
    .attr('fill', 'none')
    .attr('stroke', '#333')
    .attr('stroke-dasharray', '3,2')
    .append('title')
    .text((l) => `${l.label} dense: ${amount(total(l.dense))}`);
  bars.each(function (layer) {
    const group = select(this);
    let base = 0;
    for (const part of FLOP_PARTS) {
      const flops = layer.current[part] ?? 0;
      if (flops <= 0) continue;
      const y0 = y(base / unit.scale);
      const y1 = y((base + flops) / unit.scale);
      base += flops;
      const rect = group
        .append('rect')
        .attr('class', 'part')
        .attr('data-part', part)
        .attr('x', band * 0.15)
        .attr('y', y1)
        .attr('width', band * 0.7)
        .attr('height', y0 - y1)
        .attr('fill', color(part));
      rect.append('title').text(`${layer.label} · ${FLOP_PART_LABELS[part]}: ${amount(flops)} now, ${amount(layer.dense[part] ?? 0)} dense`);
    }
  });
  bars
    .append('text')
    .attr('x', band / 2)
    .attr('y', PLOT_HEIGHT + 14)
    .attr('text-anchor', 'middle')
    .attr('font-size', band < textWidth('layer 10', 10) ? 9 : 10)
    .text((l) => l.label);
  plot.append('line').attr('x2', plotWidth).attr('y1', PLOT_HEIGHT).attr('y2', PLOT_HEIGHT).attr('stroke', '#555');

  const shown = FLOP_PARTS.filter((p) => !OPTIONAL_PARTS.has(p) || data.layers.some((l) => (l.dense[p] ?? 0) + (l.current[p] ?? 0) > 0));
  const legendItems: { label: string; fill: string; stroke?: string }[] = shown.map((p) => ({ label: FLOP_PART_LABELS[p], fill: color(p) }));
  legendItems.push({ label: 'dense (outline)', fill: 'none', stroke: '#333' });
  const legend = svg
    .append('g')
    .attr('class', 'legend')
    .attr('font-size', 10)
    .attr('transform', `translate(${MARGIN.left + plotWidth + 20},${MARGIN.top})`)
    .selectAll('g')
    .data(legendItems)
    .join('g')
    .attr('transform', (_, i) => `translate(0,${i * 17})`);
  legend
    .append('rect')
    .attr('width', 11)
    .attr('height', 11)
    .attr('fill', (d) => d.fill)
    .attr('stroke', (d) => d.stroke ?? 'none')
    .attr('stroke-dasharray', (d) => (d.stroke ? '3,2' : null));
  legend.append('text').attr('x', 16).attr('y', 5.5).attr('dy', '0.32em').text((d) => d.label);

  const saved = denseTotal > 0 ? 1 - currentTotal / denseTotal : 0;
  const change = saved >= 0 ? `${format('.1%')(saved)} saved` : `${format('.1%')(-saved)} more than dense`;
  const caption = svg.append('g').attr('class', 'caption').attr('transform', `translate(8,${MARGIN.top + PLOT_HEIGHT + 38})`);
  caption
    .append('text')
    .attr('class', 'totals')
    .attr('data-saved', saved)
    .text(`Total: ${amount(currentTotal)} now vs ${amount(denseTotal)} dense (${change})`);
  caption
    .append('text')
    .attr('class', 'convention')
    .attr('font-size', 10)
    .attr('fill', '#555')
    .selectAll('tspan')
    .data(conventionLines)
    .join('tspan')
    .attr('x', 0)
    .attr('y', (_, i) => 15 + 13 * i)
    .text((line) => line);
  return svg.node() as SVGSVGElement;
}
