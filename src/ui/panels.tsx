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
  needleGrid,
  needleText,
  predictionsTable,
  predictionsText,
  survivalText,
  tokenSurvival,
} from '../panels';
import type { NeedleGridResult, RunOutput } from '../runtime/runner';
import { activeTechniques } from '../state/persistent';
import { techniqueById } from '../techniques/registry';
import { useRunner } from './runnerContext';
import { selectModelInputs, usePlayground } from '../state/store';
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
    return densityGridData(output.forward.plan, output.flops.current, output.keptMass);
  }, [output]);
  const element = useMemo(() => (data ? densityGrid(data) : null), [data]);
  const text = useMemo(() => (data ? densityText(data) : null), [data]);
  if (!data) return null;
  return <SvgPanel testId="panel-density" name="attention-density" element={element} text={text} empty={WAITING} />;
}

/** Needle items per (length, depth) cell: 4 × 20 cells × 2 configurations stays within a minute on a CPU adapter. */
const NEEDLE_ITEMS_PER_CELL = 4;

type NeedleState =
  | { status: 'idle' }
  | { status: 'running'; done: number; total: number; controller: AbortController }
  | { status: 'done'; result: NeedleGridResult; techniques: string }
  | { status: 'error'; message: string };

/**
 * The needle grid of a text model's eval set, computed on demand under the switched-on techniques beside the dense
 * model: where a sliding window loses mid-context needles and a method that reads the right tiles does not.
 */
export function NeedleGridPanel() {
  const runner = useRunner();
  const hasNeedles = usePlayground((s) => selectModelInputs(s)?.promptItems.some((item) => item.task === 'needle') ?? false);
  const techniqueStates = usePlayground((s) => s.techniques);
  const active = useMemo(() => activeTechniques({ techniques: techniqueStates }), [techniqueStates]);
  const [state, setState] = useState<NeedleState>({ status: 'idle' });
  const data = useMemo(() => {
    if (state.status !== 'done') return null;
    const { result, techniques } = state;
    return { lengths: result.lengths, depths: result.depths, grids: [{ title: 'dense', report: result.dense }, { title: techniques, report: result.current }] };
  }, [state]);
  const element = useMemo(() => (data ? needleGrid(data) : null), [data]);
  const text = useMemo(() => (data ? needleText(data) : null), [data]);
  if (!hasNeedles || !runner) return null;
  const start = () => {
    const controller = new AbortController();
    const techniques = active.length > 0 ? active.map((t) => techniqueById(t.id)?.label ?? t.id).join(' + ') : 'dense (no technique on)';
    setState({ status: 'running', done: 0, total: 0, controller });
    runner
      .needleGrid({ active, perCell: NEEDLE_ITEMS_PER_CELL, signal: controller.signal, onProgress: (done, total) => setState({ status: 'running', done, total, controller }) })
      .then(
        (result) => setState({ status: 'done', result, techniques }),
        (error: unknown) => setState(controller.signal.aborted ? { status: 'idle' } : { status: 'error', message: error instanceof Error ? error.message : String(error) }),
      );
  };
  return (
    <SvgPanel testId="panel-needles" name="needle-grid" element={element} text={text} empty="Compute the needle grid to compare the current techniques with the dense model.">
      <div className="needle-controls">
        {state.status === 'running' ? (
          <>
            <progress max={state.total || 1} value={state.done} aria-label="needle grid progress" />
            <span>
              {state.done} / {state.total} prompts
            </span>
            <button type="button" onClick={() => state.controller.abort()}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" onClick={start} data-testid="needle-grid-start">
            {state.status === 'done' ? 'Recompute needle grid' : 'Compute needle grid'} ({NEEDLE_ITEMS_PER_CELL} per cell)
          </button>
        )}
        {state.status === 'error' && <p className="panel-note">{state.message}</p>}
      </div>
    </SvgPanel>
  );
}
