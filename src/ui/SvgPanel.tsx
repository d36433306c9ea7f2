import { useLayoutEffect, useRef, type MouseEvent, type ReactNode } from 'react';
import { usePlayground } from '../state/store';
import { downloadPng, downloadSvg } from './exportPanel';

interface SvgPanelProps {
  testId: string;
  /** File name stem for exports. */
  name: string;
  /** The pure panel's output; rebuilt by the caller only when its data changes. */
  element: Element | null;
  /** Shown instead of the panel while there is nothing to draw. */
  empty: string;
  onPointer?(event: MouseEvent<HTMLDivElement>): void;
  children?: ReactNode;
}

/** Mounts a panel element built by a pure function of src/panels, with export buttons for SVG panels. */
export function SvgPanel({ testId, name, element, empty, onPointer, children }: SvgPanelProps) {
  const host = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    host.current?.replaceChildren(...(element ? [element] : []));
  }, [element]);
  const svg = element instanceof SVGSVGElement ? element : null;
  // After a failed run the panel is the last good run's: a file exported now would pass it off as the current one.
  const stale = usePlayground((s) => s.run.status === 'error' && s.run.output !== null);
  const exportTitle = stale ? 'The last run failed: this panel shows an earlier run, so it is not exported' : undefined;
  return (
    <section className="panel" data-testid={testId}>
      <div className="panel-body" ref={host} onMouseMove={onPointer} onMouseLeave={onPointer} />
      {!element && <p className="panel-empty">{empty}</p>}
      {children}
      {svg && (
        <div className="panel-export">
          <button type="button" disabled={stale} title={exportTitle} onClick={() => downloadSvg(svg, name)}>
            SVG
          </button>
          <button type="button" disabled={stale} title={exportTitle} onClick={() => void downloadPng(svg, name)}>
            PNG
          </button>
        </div>
      )}
    </section>
  );
}
