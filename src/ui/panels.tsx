/** React wrappers of the pure panels in src/panels: each picks its data from the latest run and mounts the SVG. */
import { useMemo, useState, type MouseEvent } from 'react';
import { attentionHeatmap, attentionMapData, describeCell, flopsBars, predictionsTable, tokenSurvival } from '../panels';
import { usePlayground } from '../state/store';
import { SvgPanel } from './SvgPanel';

const WAITING = 'Waiting for the first run…';

export function AttentionPanel() {
  const output = usePlayground((s) => s.run.output);
  const layer = usePlayground((s) => s.view.layer);
  const head = usePlayground((s) => s.view.head);
  const [hover, setHover] = useState('');
  const data = useMemo(() => {
    // The runner captures only the layer it was asked for (clamped to the model), so fall back to what it captured.
    const capture = output?.forward.attention.find((a) => a.layer === layer) ?? output?.forward.attention[0];
    if (!output || !capture) return null;
    return attentionMapData(capture, output.tokenLabels, head === 'mean' || head >= capture.heads ? 'mean' : head);
  }, [output, layer, head]);
  const element = useMemo(() => (data ? attentionHeatmap(data) : null), [data]);
  const onPointer = (event: MouseEvent<HTMLDivElement>) => {
    const cell = event.type === 'mousemove' && event.target instanceof Element ? event.target.closest('rect[data-q]') : null;
    setHover(cell && data ? describeCell(data, Number(cell.getAttribute('data-q')), Number(cell.getAttribute('data-k'))) : '');
  };
  return (
    <SvgPanel testId="panel-attention" name={`attention-layer${data?.layer ?? layer}`} element={element} empty={WAITING} onPointer={onPointer}>
      <p className="hover-readout" aria-live="polite" data-testid="attention-hover">
        {hover || 'Hover a cell to read its probability.'}
      </p>
    </SvgPanel>
  );
}

export function FlopsPanel() {
  const flops = usePlayground((s) => s.run.output?.flops);
  const element = useMemo(() => (flops ? flopsBars(flops) : null), [flops]);
  return <SvgPanel testId="panel-flops" name="flops" element={element} empty={WAITING} />;
}

export function PredictionsPanel() {
  const output = usePlayground((s) => s.run.output);
  const element = useMemo(
    () =>
      output
        ? predictionsTable({
            rows: output.predictions,
            klDenseToCurrent: output.klDenseToCurrent,
            top1Agrees: output.top1Agrees,
            samples: output.forward.plan.dropout?.samples ?? 1,
          })
        : null,
    [output],
  );
  return (
    <SvgPanel testId="panel-predictions" name="predictions" element={element} empty={WAITING}>
      {output && (
        <p className="panel-note" data-testid="dense-reference">
          Dense reference: {output.denseReference.provider}, {output.denseReference.ms.toFixed(1)} ms.
        </p>
      )}
    </SvgPanel>
  );
}

export function SurvivalPanel() {
  const output = usePlayground((s) => s.run.output);
  const element = useMemo(
    () => (output ? tokenSurvival({ tokens: output.tokenLabels, layerPositions: output.forward.layerPositions }) : null),
    [output],
  );
  return <SvgPanel testId="panel-survival" name="token-survival" element={element} empty={WAITING} />;
}
