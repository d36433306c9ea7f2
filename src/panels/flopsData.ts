import { FLOP_CONVENTION, type FlopReport } from '../flops/countFlops';
import type { FlopSplit, FlopsPanelData } from './flopsBars';

/**
 * The FLOP counter's reports as the panel draws them: per layer FLOPs by part, current (all MC samples) next to
 * dense. `headLabel` names the output head's bar ("LM head", or "classifier" for a ViT).
 */
export function flopsPanelData(current: FlopReport, dense: FlopReport, headLabel = 'LM head'): FlopsPanelData {
  const split = (report: FlopReport, layer: number): FlopSplit => {
    const l = report.layers[layer];
    if (!l) return {};
    const times = 2 * report.samples;
    return {
      qkv: times * l.macs.qkv,
      attnScores: times * l.macs.attnScores,
      attnValues: times * l.macs.attnValues,
      attnOut: times * l.macs.attnProj,
      mlpUp: times * l.macs.mlpUp,
      mlpDown: times * l.macs.mlpDown,
      // Integer estimate work (SALE's int4 logits) is technique overhead too; the note says how much of it.
      overhead: times * (l.macs.overhead + l.macs.overheadInt),
    };
  };
  const intMacs = current.samples * current.layers.reduce((sum, l) => sum + l.macs.overheadInt, 0);
  const integer = intMacs > 0 ? ` Technique overhead includes ${formatCount(2 * intMacs)} low-bit integer FLOPs (int4/int8 multiply-adds × 2).` : '';
  const samples = current.samples > 1 ? ` Current bars include all ${current.samples} Monte-Carlo passes.` : '';
  const patchBar = current.embedding.macs > 0
    ? [{ label: 'patches', dense: { patchEmbedding: 2 * dense.embedding.macs }, current: { patchEmbedding: 2 * current.samples * current.embedding.macs } }]
    : [];
  return {
    layers: [
      ...patchBar,
      ...current.layers.map((_, i) => ({ label: `L${i}`, dense: split(dense, i), current: split(current, i) })),
      { label: headLabel, dense: { lmHead: 2 * dense.lmHead.macs }, current: { lmHead: 2 * current.samples * current.lmHead.macs } },
    ],
    convention: `${FLOP_CONVENTION}${samples}${integer}`,
  };
}

function formatCount(value: number): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)} M` : `${Math.round(value)}`;
}
