import { format, interpolateRdYlGn } from 'd3';
import type { EvalReport } from '../eval/evalReport';
import { createPanel, type PanelOptions } from './svg';

export interface NeedleGridData {
  lengths: number[];
  depths: number[];
  /** Side by side: the dense model, then the switched-on techniques. */
  grids: { title: string; report: EvalReport }[];
}

const CELL = 40;
const GAP = 36;
const MARGIN = { top: 52, left: 58, right: 16, bottom: 34 };
const percent = format('.0%');

/** The recall-lm needle-grid cell of `length` and `depth`, as lmHarness names it. */
export function needleCell(report: EvalReport, length: number, depth: number) {
  return report.cells[`needle L=${length} depth=${depth}`];
}

/** Accuracy by context length (rows) and needle depth (columns), one grid per configuration. */
export function needleGrid(data: NeedleGridData, options: PanelOptions = {}): SVGSVGElement {
  const gridWidth = data.depths.length * CELL;
  const width = MARGIN.left + data.grids.length * gridWidth + (data.grids.length - 1) * GAP + MARGIN.right;
  const svg = createPanel(options, width, MARGIN.top + data.lengths.length * CELL + MARGIN.bottom, 'Needle retrieval by context length and depth');
  data.grids.forEach(({ title, report }, g) => {
    const plot = svg.append('g').attr('class', 'grid').attr('data-title', title).attr('transform', `translate(${MARGIN.left + g * (gridWidth + GAP)},${MARGIN.top})`);
    plot.append('text').attr('x', gridWidth / 2).attr('y', -30).attr('text-anchor', 'middle').attr('font-size', 11).text(`${title}: ${percent(report.accuracy)}`);
    data.depths.forEach((depth, d) => {
      plot.append('text').attr('x', (d + 0.5) * CELL).attr('y', -10).attr('text-anchor', 'middle').attr('font-size', 10).text(String(depth));
    });
    data.lengths.forEach((length, l) => {
      if (g === 0) plot.append('text').attr('x', -6).attr('y', (l + 0.5) * CELL).attr('dy', '0.32em').attr('text-anchor', 'end').attr('font-size', 10).text(`L=${length}`);
      data.depths.forEach((depth, d) => {
        const cell = needleCell(report, length, depth);
        const accuracy = cell && cell.total > 0 ? cell.correct / cell.total : null;
        const group = plot.append('g').attr('class', 'cell').attr('data-length', length).attr('data-depth', depth).attr('data-accuracy', accuracy ?? '');
        group
          .append('rect')
          .attr('x', d * CELL + 1)
          .attr('y', l * CELL + 1)
          .attr('width', CELL - 2)
          .attr('height', CELL - 2)
          .attr('fill', accuracy === null ? '#eee' : interpolateRdYlGn(accuracy));
        group
          .append('text')
          .attr('x', (d + 0.5) * CELL)
          .attr('y', (l + 0.5) * CELL)
          .attr('dy', '0.32em')
          .attr('text-anchor', 'middle')
          .attr('font-size', 10)
          .text(cell ? `${cell.correct}/${cell.total}` : '');
        group.append('title').text(`L=${length}, depth ${depth}: ${cell ? `${cell.correct} of ${cell.total} needles retrieved` : 'not run'}`);
      });
    });
  });
  const bottom = MARGIN.top + data.lengths.length * CELL + 22;
  svg.append('text').attr('x', MARGIN.left).attr('y', bottom).attr('font-size', 10).text('needle depth (0 = start of the context, 1 = end); rows: context length in tokens');
  return svg.node() as SVGSVGElement;
}
