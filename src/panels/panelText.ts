/**
 * Each panel's text alternative: a description with its key numbers (the figure's accessible description) and the
 * same data as a table, for screen readers and for reading exact values off a projector.
 */
import { format, sum } from 'd3';
import { maskName, tileCounts, type AttentionMapData } from './attentionHeatmap';
import type { DensityGridData } from './densityGrid';
import { needleCell, type NeedleGridData } from './needleGrid';
import { flopUnit, total, type FlopsPanelData } from './flopsBars';
import type { ImagePatchesData } from './imagePatches';
import type { PredictionsPanelData } from './predictionsTable';
import { tokenText } from './svg';
import type { TokenSurvivalData } from './tokenSurvival';

export interface PanelText {
  description: string;
  table: { columns: string[]; rows: string[][] };
}

const percent = format('.1%');
const quoted = (label: string) => `'${tokenText(label)}'`;

export function attentionText(data: AttentionMapData): PanelText {
  const n = data.positions.length;
  const tiles = tileCounts(data);
  const rows = Array.from(data.positions, (position, q) => {
    let best = 0;
    for (let k = 1; k < n; k++) if ((data.probs[q * n + k] ?? 0) > (data.probs[q * n + best] ?? 0)) best = k;
    const key = data.positions[best] ?? 0;
    return [`${quoted(data.tokens[position] ?? '')} (pos ${position})`, `${quoted(data.tokens[key] ?? '')} (pos ${key})`, format('.3f')(data.probs[q * n + best] ?? 0)];
  });
  const head = data.head === 'mean' ? 'mean of heads' : `head ${data.head}`;
  return {
    description:
      `Layer ${data.layer}, ${head}: ${data.tokens.length} tokens, ${data.tokens.length - n} pruned; ` +
      `${tiles.skipped} of ${tiles.visible} ${maskName(data)} ${data.blockSize}×${data.blockSize} tiles skipped.`,
    table: { columns: ['query', 'most attended key', 'probability'], rows },
  };
}

export function predictionsText(data: PredictionsPanelData): PanelText {
  const [first] = data.rows;
  const leader = first ? ` Top prediction ${quoted(first.label)} at ${percent(first.currentProb)}.` : '';
  const comparison = data.dense
    ? `KL(dense ‖ current) = ${format('.4f')(data.dense.klDenseToCurrent)} nats; top-1 ${data.dense.top1Agrees ? 'agrees with' : 'differs from'} the dense model.`
    : 'The dense reference is still loading.';
  const sampled = data.samples > 1;
  return {
    description: `${comparison}${leader}${sampled ? ` Mean ± std over ${data.samples} samples.` : ''}`,
    table: {
      columns: ['output', sampled ? 'current (mean ± std)' : 'current', 'dense'],
      rows: data.rows.map((r) => [
        quoted(r.label),
        `${percent(r.currentProb)}${sampled ? ` ± ${percent(r.currentStd)}` : ''}`,
        r.denseProb === null ? 'loading' : percent(r.denseProb),
      ]),
    },
  };
}

export function flopsText(data: FlopsPanelData): PanelText {
  const denseTotal = sum(data.layers, (l) => total(l.dense));
  const currentTotal = sum(data.layers, (l) => total(l.current));
  const unit = flopUnit(Math.max(denseTotal, currentTotal));
  const amount = (flops: number) => `${format(',.3~f')(flops / unit.scale)} ${unit.name}`;
  const saved = denseTotal > 0 ? 1 - currentTotal / denseTotal : 0;
  const change = saved >= 0 ? `${percent(saved)} saved` : `${percent(-saved)} more than dense`;
  return {
    description: `Total ${amount(currentTotal)} now vs ${amount(denseTotal)} dense (${change}).`,
    table: {
      columns: ['part of the model', 'now', 'dense', 'saved'],
      rows: data.layers.map((l) => {
        const [now, dense] = [total(l.current), total(l.dense)];
        return [l.label, amount(now), amount(dense), dense > 0 ? percent(1 - now / dense) : '–'];
      }),
    },
  };
}

export function survivalText(data: TokenSurvivalData): PanelText {
  const n = data.tokens.length;
  const last = data.layerPositions.at(-1)?.length ?? n;
  return {
    description: `${n} input tokens; the last layer computes ${last} of them.`,
    table: { columns: ['layer', 'tokens computed'], rows: data.layerPositions.map((positions, layer) => [`L${layer}`, `${positions.length} of ${n}`]) },
  };
}

export function imageText(data: ImagePatchesData): PanelText {
  const patches = data.grid * data.grid;
  const computed = Array.from(data.droppedAt).filter((dropped) => dropped > data.layer).length;
  const head = data.head === 'mean' ? 'mean of heads' : `head ${data.head}`;
  const rows = Array.from(data.droppedAt, (dropped, p) => [
    `(${Math.floor(p / data.grid)},${p % data.grid})`,
    dropped >= data.layers ? 'never' : `layer ${dropped}`,
    format('.3f')(data.attention[p] ?? 0),
  ]);
  return {
    description: `${data.caption}. Layer ${data.layer} computes ${computed} of ${patches} patches; attention of ${quoted(data.outputRow)} (${head}) per patch.`,
    table: { columns: ['patch (row, column)', 'dropped at', `attention from ${quoted(data.outputRow)}`], rows },
  };
}

export function densityText(data: DensityGridData): PanelText {
  const values = data.density.flat().filter((value): value is number => value !== null);
  const mean = values.length > 0 ? sum(values) / values.length : 1;
  return {
    description: `Attention density over ${data.density.length} layers: mean ${percent(mean)} of the pairs dense attention computes, per head.`,
    table: {
      columns: ['layer', 'head', 'density', 'estimate / attention MACs', 'kept attention mass (layer)'],
      rows: data.density.flatMap((row, l) =>
        row.map((value, h) => [
          `${l}`,
          `${h}`,
          value === null ? 'masked' : percent(value),
          data.estimator[l] ? `${data.estimator[l]} ${percent(data.estimateShare[l] ?? 0)}` : '—',
          data.keptMass[l] === null || data.keptMass[l] === undefined ? '—' : percent(data.keptMass[l]!),
        ]),
      ),
    },
  };
}

export function needleText(data: NeedleGridData): PanelText {
  return {
    description: `Needle retrieval accuracy: ${data.grids.map(({ title, report }) => `${title} ${percent(report.accuracy)}`).join(', ')}.`,
    table: {
      columns: ['length', 'depth', ...data.grids.map(({ title }) => title)],
      rows: data.lengths.flatMap((length) =>
        data.depths.map((depth) => [
          `${length}`,
          `${depth}`,
          ...data.grids.map(({ report }) => {
            const cell = needleCell(report, length, depth);
            return cell ? `${cell.correct}/${cell.total}` : '—';
          }),
        ]),
      ),
    },
  };
}
