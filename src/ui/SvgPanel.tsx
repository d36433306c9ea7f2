import { useLayoutEffect, useRef, type MouseEvent, type ReactNode } from 'react';
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
  return (
    // The test id doubles as the class by which styles.css places the panel in the grid.
    <section className={`panel ${testId}`} data-testid={testId}>
      <div className="panel-body" ref={host} onMouseMove={onPointer} onMouseLeave={onPointer} />
      {!element && <p className="panel-empty">{empty}</p>}
      {children}
      {svg && (
        <div className="panel-export">
          <button type="button" onClick={() => downloadSvg(svg, name)}>
            SVG
          </button>
          <button type="button" onClick={() => void downloadPng(svg, name)}>
            PNG
          </button>
        </div>
      )}
    </section>
  );
}
