import { createPanel, type PanelOptions } from './svg';

export interface TokenSurvivalData {
  /** Labels of the original input positions. */
  tokens: string[];
  /** Original positions each layer computed (index = layer), ascending. */
  layerPositions: Int32Array[];
}

const ROW = 14;
const MARGIN = { top: 30, left: 56, right: 64, bottom: 30 };

/** One strip per layer: computed positions dark, pruned ones light; contiguous runs are merged so 1024 tokens stay cheap. */
export function tokenSurvival(data: TokenSurvivalData, options: PanelOptions & { width?: number } = {}): SVGSVGElement {
  const plotWidth = options.width ?? 480;
  const n = data.tokens.length;
  const layers = data.layerPositions.length;
  const svg = createPanel(options, MARGIN.left + plotWidth + MARGIN.right, MARGIN.top + layers * ROW + MARGIN.bottom, 'Token survival per layer');
  const unit = n > 0 ? plotWidth / n : 0;
  const plot = svg.append('g').attr('transform', `translate(${MARGIN.left},${MARGIN.top})`);
  data.layerPositions.forEach((positions, layer) => {
    const row = plot
      .append('g')
      .attr('class', 'layer')
      .attr('data-layer', layer)
      .attr('data-kept', positions.length)
      .attr('transform', `translate(0,${layer * ROW})`);
    row.append('title').text(`layer ${layer}: ${positions.length} of ${n} tokens computed`);
    row.append('rect').attr('width', plotWidth).attr('height', ROW - 3).attr('fill', '#e8e8e8');
    for (const [start, end] of runs(positions)) {
      row
        .append('rect')
        .attr('class', 'kept')
        .attr('x', start * unit)
        .attr('width', (end - start + 1) * unit)
        .attr('height', ROW - 3)
        .attr('fill', '#3b6ea5');
    }
    row.append('text').attr('x', -6).attr('y', (ROW - 3) / 2).attr('dy', '0.32em').attr('text-anchor', 'end').attr('font-size', 10).text(`L${layer}`);
    row.append('text').attr('x', plotWidth + 6).attr('y', (ROW - 3) / 2).attr('dy', '0.32em').attr('font-size', 10).text(`${positions.length}/${n}`);
  });
  const bottom = layers * ROW + 14;
  plot.append('text').attr('x', 0).attr('y', bottom).attr('font-size', 10).text('0');
  plot.append('text').attr('x', plotWidth).attr('y', bottom).attr('font-size', 10).attr('text-anchor', 'end').text(String(Math.max(0, n - 1)));
  plot.append('text').attr('x', plotWidth / 2).attr('y', bottom).attr('text-anchor', 'middle').text('input position (dark: computed, light: pruned)');
  return svg.node() as SVGSVGElement;
}

/** Inclusive [start, end] runs of consecutive positions. */
export function runs(positions: Int32Array): [number, number][] {
  const result: [number, number][] = [];
  for (const p of positions) {
    const last = result.at(-1);
    if (last && p === last[1] + 1) last[1] = p;
    else result.push([p, p]);
  }
  return result;
}
