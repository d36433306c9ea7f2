import { format } from 'd3';
import type { ForwardTiming } from '../engine/result';
import type { PanelOptions } from './svg';

const METHOD_TEXT: Record<ForwardTiming['method'], { short: string; long: string }> = {
  'timestamp-query': { short: 'GPU timestamps', long: 'Median GPU time between timestamp queries around the forward pass.' },
  'wall-clock': {
    short: 'wall clock',
    long: 'Median wall-clock time until the GPU queue drained: this adapter has no timestamp queries, so it includes CPU and driver overhead.',
  },
};

/** The forward time with how it was measured, as an inline HTML badge. */
export function timingBadge(data: ForwardTiming, options: PanelOptions = {}): HTMLSpanElement {
  const doc = options.document ?? document;
  const badge = doc.createElement('span');
  badge.className = 'timing-badge';
  badge.dataset['method'] = data.method;
  badge.title = METHOD_TEXT[data.method].long;
  const value = doc.createElement('strong');
  value.textContent = `${format('.3~r')(data.ms)} ms`;
  const method = doc.createElement('span');
  method.className = 'timing-method';
  method.textContent = ` · ${METHOD_TEXT[data.method].short}`;
  badge.append(value, method);
  return badge;
}
