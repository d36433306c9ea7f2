import { format, interpolateBlues } from 'd3';
import { countPairs, densePairs } from '../flops/pairs';
import { attendedKeyBlocks } from '../engine/layerSteps';
import { tokenMask, type ExecutionPlan } from '../engine/plan';
import type { FlopReport } from '../flops/countFlops';
import { createPanel, type PanelOptions } from './svg';

export interface DensityGridData {
  /** [layer][head]: useful (query, key) pairs over the pairs dense attention needs on the layer's tokens; null for a masked head. */
  density: (number | null)[][];
  /** Per layer: the estimators' MACs over the attention MACs they decided (0 without an estimator). */
  estimateShare: number[];
  /** Per layer: which technique decided its tiles on the GPU, if one did. */
  estimator: (string | null)[];
  /** Per layer: the dense attention mass the computed keys hold (RunOutput.keptMass), null where not measured. */
  keptMass: (number | null)[];
}

/** What ran, per layer and head, from the plan as it ran (ForwardResult.plan) and its FLOP report. */
export function densityGridData(plan: ExecutionPlan, flops: FlopReport, keptMass: readonly (number | null)[] | null = null): DensityGridData {
  const density = plan.layers.map((layer) => {
    const mask = tokenMask(plan.config, layer);
    const lists = attendedKeyBlocks(layer);
    const dense = densePairs(layer.tokens, layer.bidirectionalPrefix);
    return lists.map((_, h) => {
      if (!layer.heads.includes(h)) return null;
      const perHead = lists.map((other, g) => (g === h ? other : other.map(() => [])));
      return dense > 0 ? countPairs(perHead, mask, plan.blockSize).useful / dense : 1;
    });
  });
  const estimateShare = flops.layers.map((layer) => {
    const attention = layer.macs.attnScores + layer.macs.attnValues;
    return attention > 0 ? (layer.macs.overhead + layer.macs.overheadInt) / attention : 0;
  });
  return {
    density,
    estimateShare,
    estimator: plan.layers.map((layer) => layer.estimator?.technique ?? null),
    keptMass: plan.layers.map((layer) => keptMass?.[layer.index] ?? null),
  };
}

const CELL = 34;
const MARGIN = { top: 44, left: 40, right: 200, bottom: 16 };
const percent = format('.0%');

/** A heat grid of attention density, layers down and heads across, with each layer's estimate cost beside it. */
export function densityGrid(data: DensityGridData, options: PanelOptions = {}): SVGSVGElement {
  const layers = data.density.length;
  const heads = Math.max(0, ...data.density.map((row) => row.length));
  const svg = createPanel(options, MARGIN.left + heads * CELL + MARGIN.right, MARGIN.top + layers * CELL + MARGIN.bottom, 'Attention density per layer and head');
  const plot = svg.append('g').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
  for (let h = 0; h < heads; h++) {
    plot.append('text').attr('x', (h + 0.5) * CELL).attr('y', -8).attr('text-anchor', 'middle').attr('font-size', 10).text(`h${h}`);
  }
  plot.append('text').attr('x', heads * CELL + 8).attr('y', -8).attr('font-size', 10).text('estimate / attention');
  plot.append('text').attr('x', heads * CELL + 120).attr('y', -8).attr('font-size', 10).text('kept mass');
  data.density.forEach((row, l) => {
    const g = plot.append('g').attr('class', 'layer').attr('data-layer', l).attr('transform', `translate(0,${l * CELL})`);
    g.append('text').attr('x', -6).attr('y', CELL / 2).attr('dy', '0.32em').attr('text-anchor', 'end').attr('font-size', 10).text(`L${l}`);
    row.forEach((value, h) => {
      const cell = g.append('g').attr('class', 'cell').attr('data-head', h).attr('data-density', value === null ? 'masked' : value.toFixed(4));
      cell
        .append('rect')
        .attr('x', h * CELL + 1)
        .attr('y', 1)
        .attr('width', CELL - 2)
        .attr('height', CELL - 2)
        .attr('fill', value === null ? '#4a4a4a' : interpolateBlues(0.15 + 0.85 * value));
      cell
        .append('text')
        .attr('x', (h + 0.5) * CELL)
        .attr('y', CELL / 2)
        .attr('dy', '0.32em')
        .attr('text-anchor', 'middle')
        .attr('font-size', 10)
        .attr('fill', value !== null && value > 0.55 ? 'white' : 'black')
        .text(value === null ? 'off' : percent(value));
      cell.append('title').text(`layer ${l}, head ${h}: ${value === null ? 'masked' : `${format('.1%')(value)} of dense pairs computed`}`);
    });
    const estimator = data.estimator[l];
    const kept = data.keptMass[l];
    // The two columns beside the grid: what the estimate cost, and how much dense attention mass it kept.
    const columns = [
      { name: 'estimate-share', x: heads * CELL + 8, text: estimator ? `${estimator} ${format('.1%')(data.estimateShare[l] ?? 0)}` : '—' },
      { name: 'kept-mass', x: heads * CELL + 120, text: kept === null || kept === undefined ? '—' : format('.1%')(kept) },
    ];
    for (const column of columns) {
      g.append('text').attr('class', column.name).attr('x', column.x).attr('y', CELL / 2).attr('dy', '0.32em').attr('font-size', 10).text(column.text);
    }
  });
  return svg.node() as SVGSVGElement;
}
