import { useId, useLayoutEffect, useRef, useState, type MouseEvent, type ReactNode } from 'react';
import type { PanelText } from '../panels';
import { usePlayground } from '../state/store';
import { downloadPng, downloadSvg } from './exportPanel';

interface SvgPanelProps {
  testId: string;
  /** File name stem for exports. */
  name: string;
  /** The pure panel's output; rebuilt by the caller only when its data changes. */
  element: Element | null;
  /** The panel's description and table (src/panels/panelText.ts), from the same data as `element`. */
  text: PanelText | null;
  /** Shown instead of the panel while there is nothing to draw. */
  empty: string;
  onPointer?(event: MouseEvent<HTMLDivElement>): void;
  children?: ReactNode;
}

/**
 * Mounts a panel element built by a pure function of src/panels, with its text alternative (a description the
 * figure points to, and a table on request) and export buttons for SVG panels.
 */
export function SvgPanel({ testId, name, element, text, empty, onPointer, children }: SvgPanelProps) {
  const host = useRef<HTMLDivElement>(null);
  const descriptionId = useId();
  const tableId = useId();
  const [tableShown, setTableShown] = useState(false);
  useLayoutEffect(() => {
    element?.setAttribute('aria-describedby', descriptionId);
    host.current?.replaceChildren(...(element ? [element] : []));
  }, [element, descriptionId]);
  const svg = element instanceof SVGSVGElement ? element : null;
  // The figure's accessible name is its title.
  const title = element?.getAttribute('aria-label') ?? name;
  // After a failed run the panel is the last good run's: a file exported now would pass it off as the current one.
  const stale = usePlayground((s) => s.run.status === 'error' && s.run.output !== null);
  const exportTitle = stale ? 'The last run failed: this panel shows an earlier run, so it is not exported' : undefined;
  return (
    // The test id doubles as the class by which styles.css places the panel in the grid.
    <section className={`panel ${testId}`} data-testid={testId} aria-label={title}>
      <div className="panel-body" ref={host} onMouseMove={onPointer} onMouseLeave={onPointer} />
      {!element && <p className="panel-empty">{empty}</p>}
      {text && (
        <p id={descriptionId} className="visually-hidden" data-testid={`${testId}-description`}>
          {text.description}
        </p>
      )}
      {children}
      {text && tableShown && (
        <table id={tableId} className="panel-table" data-testid={`${testId}-table`}>
          <caption>{title}</caption>
          <thead>
            <tr>
              {text.table.columns.map((column) => (
                <th key={column} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {text.table.rows.map((row, r) => (
              <tr key={r}>
                {row.map((cell, c) => (c === 0 ? <th key={c} scope="row">{cell}</th> : <td key={c}>{cell}</td>))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {element && (
        <div className="panel-export">
          {text && (
            <button type="button" aria-expanded={tableShown} aria-controls={tableShown ? tableId : undefined} onClick={() => setTableShown(!tableShown)}>
              {tableShown ? 'Hide table' : 'Show as table'}
            </button>
          )}
          {svg && (
            <>
              <button type="button" aria-label={`Download ${title} as SVG`} disabled={stale} title={exportTitle} onClick={() => downloadSvg(svg, name)}>
                SVG
              </button>
              <button type="button" aria-label={`Download ${title} as PNG`} disabled={stale} title={exportTitle} onClick={() => void downloadPng(svg, name)}>
                PNG
              </button>
            </>
          )}
        </div>
      )}
    </section>
  );
}
