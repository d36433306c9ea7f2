import { format, max, scaleLinear } from 'd3';
import { createPanel, textWidth, tokenText, type PanelOptions } from './svg';

export interface PredictionBar {
  label: string;
  /** null while the dense reference is still loading. */
  denseProb: number | null;
  currentProb: number;
  /** Population standard deviation (ddof = 0) of the current probability across Monte-Carlo samples (0 without dropout). */
  currentStd: number;
}

export interface PredictionsPanelData {
  /** Top-k next tokens, sorted by current probability. */
  rows: PredictionBar[];
  /** null while the dense reference is still loading: the current bars are drawn alone. */
  dense: { klDenseToCurrent: number; top1Agrees: boolean } | null;
  /** Monte-Carlo samples behind the current probabilities; the ±std whisker is drawn when more than one. */
  samples: number;
}

const ROW = 22;
/** Narrowest label column; a longer label ('bottom-right', a class of shapes-vit) widens it rather than being cut. */
const MIN_LABEL_WIDTH = 96;
const LABEL_FONT_SIZE = 11;
/** Space between a label and its bar, and left of the longest label. */
const LABEL_PAD = 8;
const BAR_WIDTH = 240;
const TOP = 64;
/** Extra height for the line saying what the whiskers show. */
const WHISKER_LEGEND = 14;

export interface PredictionsTableOptions extends PanelOptions {
  /** What the outputs are: next tokens by default; a classifier's classes, a VLM's answers. */
  title?: string;
}

export function predictionsTable(data: PredictionsPanelData, options: PredictionsTableOptions = {}): SVGSVGElement {
  const sampled = data.samples > 1;
  const height = TOP + data.rows.length * ROW + 40 + (sampled ? WHISKER_LEGEND : 0);
  const labelText = (r: PredictionBar) => `'${tokenText(r.label)}'`;
  const longestLabel = max(data.rows, (r) => textWidth(labelText(r), LABEL_FONT_SIZE)) ?? 0;
  const labelWidth = Math.max(MIN_LABEL_WIDTH, Math.ceil(longestLabel + 2 * LABEL_PAD));
  const svg = createPanel(options, labelWidth + BAR_WIDTH + 190, height, options.title ?? 'Next-token predictions');
  const percent = format('.1%');
  const { dense } = data;
  svg.attr('data-dense', dense ? 'ready' : 'pending');
  const samplesNote = sampled ? ` · mean ± std over ${data.samples} samples` : '';
  svg
    .append('text')
    .attr('class', 'kl')
    .attr('x', 8)
    .attr('y', 38)
    .text(dense ? `KL(dense ‖ current) = ${format('.4f')(dense.klDenseToCurrent)} nats` : 'KL(dense ‖ current): waiting for the dense reference…');
  const top1 = svg.append('text').attr('class', 'top1').attr('x', 8).attr('y', 54);
  if (dense) {
    top1
      .attr('data-agrees', String(dense.top1Agrees))
      .attr('fill', dense.top1Agrees ? '#1b6e2e' : '#a01c1c')
      .text(`Top-1 ${dense.top1Agrees ? 'agrees with' : 'differs from'} the dense model${samplesNote}`);
  } else {
    top1.attr('fill', '#555').text(`Our engine's result; the dense one follows${samplesNote}`);
  }

  const top = max(data.rows, (r) => Math.max(r.denseProb ?? 0, r.currentProb + (sampled ? r.currentStd : 0))) ?? 0;
  const x = scaleLinear().domain([0, Math.min(1, top > 0 ? top : 1)]).nice().range([0, BAR_WIDTH]);
  const rows = svg
    .append('g')
    .attr('class', 'rows')
    .attr('transform', `translate(${labelWidth},${TOP})`)
    .selectAll('g')
    .data(data.rows)
    .join('g')
    .attr('class', 'row')
    .attr('transform', (_, i) => `translate(0,${i * ROW})`);
  const spread = `population standard deviation (ddof = 0) over ${data.samples} samples`;
  const denseText = (r: PredictionBar, separator: string) => (r.denseProb === null ? '' : `${separator}dense ${percent(r.denseProb)}`);
  rows
    .append('title')
    .text((r) => `'${r.label}': current ${percent(r.currentProb)}${sampled ? ` ± ${percent(r.currentStd)}` : ''}${denseText(r, ', ')}${sampled ? `; ± is the ${spread}` : ''}`);
  rows
    .append('text')
    .attr('class', 'label')
    .attr('x', -LABEL_PAD)
    .attr('y', ROW / 2)
    .attr('dy', '0.32em')
    .attr('text-anchor', 'end')
    .attr('font-family', 'DejaVu Sans Mono, monospace')
    .attr('font-size', LABEL_FONT_SIZE)
    .text(labelText);
  rows.append('rect').attr('class', 'current').attr('y', 4).attr('height', ROW - 8).attr('width', (r) => x(r.currentProb)).attr('fill', '#4e79a7');
  // Outline = dense reference, the same convention as the FLOPs panel.
  rows
    .filter((r) => r.denseProb !== null)
    .append('rect')
    .attr('class', 'dense')
    .attr('y', 2)
    .attr('height', ROW - 4)
    .attr('width', (r) => x(r.denseProb ?? 0))
    .attr('fill', 'none')
    .attr('stroke', '#333')
    .attr('stroke-dasharray', '3,2');
  if (sampled) {
    const whisker = rows.append('g').attr('class', 'whisker').attr('stroke', '#111');
    const lo = (r: PredictionBar) => x(Math.max(0, r.currentProb - r.currentStd));
    const hi = (r: PredictionBar) => x(Math.min(1, r.currentProb + r.currentStd));
    whisker.append('line').attr('x1', lo).attr('x2', hi).attr('y1', ROW / 2).attr('y2', ROW / 2);
    whisker.append('line').attr('x1', lo).attr('x2', lo).attr('y1', ROW / 2 - 4).attr('y2', ROW / 2 + 4);
    whisker.append('line').attr('x1', hi).attr('x2', hi).attr('y1', ROW / 2 - 4).attr('y2', ROW / 2 + 4);
  }
  rows
    .append('text')
    .attr('class', 'value')
    .attr('x', BAR_WIDTH + 8)
    .attr('y', ROW / 2)
    .attr('dy', '0.32em')
    .attr('font-size', 10)
    .text((r) => `${percent(r.currentProb)}${sampled ? ` ± ${percent(r.currentStd)}` : ''}${r.denseProb === null ? '' : ` (${denseText(r, '')})`}`);

  const axisY = TOP + data.rows.length * ROW + 4;
  const axis = svg.append('g').attr('class', 'x-axis').attr('transform', `translate(${labelWidth},${axisY})`).attr('font-size', 10).attr('text-anchor', 'middle');
  axis.append('line').attr('x2', BAR_WIDTH).attr('stroke', '#555');
  for (const tick of x.ticks(4)) {
    axis.append('line').attr('x1', x(tick)).attr('x2', x(tick)).attr('y2', 4).attr('stroke', '#555');
    axis.append('text').attr('x', x(tick)).attr('y', 15).text(format('.0%')(tick));
  }
  axis.append('text').attr('x', BAR_WIDTH / 2).attr('y', 30).text('probability (filled: current, dashed outline: dense)');
  if (sampled) {
    // sampleStatistics divides by N, not N − 1; at the few samples MC dropout runs the two differ (by √2 at N = 2).
    svg.append('text').attr('class', 'whisker-legend').attr('x', 8).attr('y', axisY + 30 + WHISKER_LEGEND).attr('font-size', 10).text(`whiskers: ± ${spread}`);
  }
  return svg.node() as SVGSVGElement;
}
