/** React wrappers of the pure panels in src/panels: each picks its data from the latest run and mounts the SVG. */
import { useMemo, useState, type MouseEvent } from 'react';
import { bidirectionalPrefix } from '../models/config';
import {
  attentionHeatmap,
  attentionMapData,
  attentionText,
  densityGrid,
  densityGridData,
  densityText,
  describeCell,
  flopsBars,
  flopsPanelData,
  flopsText,
  imageCaption,
  imagePatches,
  imagePatchesData,
  imageText,
  predictionsTable,
  predictionsText,
  survivalText,
  tokenSurvival,
} from '../panels';
import type { RunOutput } from '../runtime/runner';
import { usePlayground } from '../state/store';
import { SvgPanel } from './SvgPanel';

const WAITING = 'Waiting for the first run…';

/** The runner captures only the layer it was asked for (clamped to the model), so fall back to what it captured. */
function capturedLayer(output: RunOutput | null, layer: number) {
  return output?.forward.attention.find((a) => a.layer === layer) ?? output?.forward.attention[0];
}

/** The view's head, or the mean when the model has fewer heads than a link asked for. */
function headIn(head: number | 'mean', heads: number): number | 'mean' {
  return head === 'mean' || head >= heads ? 'mean' : head;
}

export function AttentionPanel() {
  const output = usePlayground((s) => s.run.output);
  const layer = usePlayground((s) => s.view.layer);
  const head = usePlayground((s) => s.view.head);
  const [hover, setHover] = useState('');
  const data = useMemo(() => {
    const capture = capturedLayer(output, layer);
    if (!output || !capture) return null;
    const { config, inputTokens } = output.forward.plan;
    const visiblePrefix = bidirectionalPrefix(config, inputTokens, inputTokens - config.imageTokens);
    return attentionMapData(capture, output.tokenLabels, headIn(head, capture.heads), visiblePrefix);
  }, [output, layer, head]);
  const element = useMemo(() => (data ? attentionHeatmap(data) : null), [data]);
  const text = useMemo(() => (data ? attentionText(data) : null), [data]);
  const onPointer = (event: MouseEvent<HTMLDivElement>) => {
    const cell = event.type === 'mousemove' && event.target instanceof Element ? event.target.closest('rect[data-q]') : null;
    setHover(cell && data ? describeCell(data, Number(cell.getAttribute('data-q')), Number(cell.getAttribute('data-k'))) : '');
  };
  return (
    <SvgPanel testId="panel-attention" name={`attention-layer${data?.layer ?? layer}`} element={element} text={text} empty={WAITING} onPointer={onPointer}>
      <p className="hover-readout" aria-live="polite" data-testid="attention-hover">
        {hover || 'Hover a cell to read its probability.'}
      </p>
    </SvgPanel>
  );
}

export function FlopsPanel() {
  const output = usePlayground((s) => s.run.output);
  const data = useMemo(() => {
    if (!output) return null;
    const { current, dense } = output.flops;
    return flopsPanelData(current, dense, output.forward.plan.config.labels ? 'classifier' : 'LM head');
  }, [output]);
  const element = useMemo(() => (data ? flopsBars(data) : null), [data]);
  const text = useMemo(() => (data ? flopsText(data) : null), [data]);
  return <SvgPanel testId="panel-flops" name="flops" element={element} text={text} empty={WAITING} />;
}

export function PredictionsPanel() {
  const output = usePlayground((s) => s.run.output);
  const data = useMemo(
    () => (output ? { rows: output.predictions, dense: output.dense, samples: output.forward.plan.dropout?.samples ?? 1 } : null),
    [output],
  );
  const element = useMemo(() => (output && data ? predictionsTable(data, { title: predictionsTitle(output) }) : null), [output, data]);
  const text = useMemo(() => (data ? predictionsText(data) : null), [data]);
  return (
    <SvgPanel testId="panel-predictions" name="predictions" element={element} text={text} empty={WAITING}>
      {output?.dense && (
        <p className="panel-note" data-testid="dense-reference">
          Dense reference: {output.dense.provider}, {output.dense.ms.toFixed(1)} ms.
        </p>
      )}
    </SvgPanel>
  );
}

function predictionsTitle(output: RunOutput): string | undefined {
  const { config } = output.forward.plan;
  if (config.labels) return 'Class predictions';
  return config.image ? 'Answer predictions (next token)' : undefined;
}

/** An image model's input image with its patch grid; absent for text models. */
export function ImagePanel() {
  const output = usePlayground((s) => s.run.output);
  const layer = usePlayground((s) => s.view.layer);
  const head = usePlayground((s) => s.view.head);
  const data = useMemo(() => {
    const capture = capturedLayer(output, layer);
    if (!output?.image || !capture) return null;
    return imagePatchesData(output.image, capture, headIn(head, capture.heads), output.tokenLabels.at(-1) ?? '', imageCaption(output.image));
  }, [output, layer, head]);
  const element = useMemo(() => (data ? imagePatches(data) : null), [data]);
  const text = useMemo(() => (data ? imageText(data) : null), [data]);
  if (!data) return null;
  return <SvgPanel testId="panel-image" name={`image-patches-layer${data.layer}`} element={element} text={text} empty={WAITING} />;
}

export function SurvivalPanel() {
  const output = usePlayground((s) => s.run.output);
  const data = useMemo(() => (output ? { tokens: output.tokenLabels, layerPositions: output.forward.layerPositions } : null), [output]);
  const element = useMemo(() => (data ? tokenSurvival(data) : null), [data]);
  const text = useMemo(() => (data ? survivalText(data) : null), [data]);
  return <SvgPanel testId="panel-survival" name="token-survival" element={element} text={text} empty={WAITING} />;
}

/** Density per layer and head, and what each estimate cost: shown once a technique decides tiles on the GPU. */
export function DensityPanel() {
  const output = usePlayground((s) => s.run.output);
  const data = useMemo(() => {
    if (!output || !output.forward.plan.layers.some((layer) => layer.estimator)) return null;
    return densityGridData(output.forward.plan, output.flops.current);
  }, [output]);
  const element = useMemo(() => (data ? densityGrid(data) : null), [data]);
  const text = useMemo(() => (data ? densityText(data) : null), [data]);
  if (!data) return null;
  return <SvgPanel testId="panel-density" name="attention-density" element={element} text={text} empty={WAITING} />;
}
