import { select, type Selection } from 'd3';

/** DejaVu Sans first: it is on every CI image, so screenshots and exported SVGs lay out the same everywhere. */
export const FONT_FAMILY = '"DejaVu Sans", "Helvetica Neue", Arial, sans-serif';
const SVG_NS = 'http://www.w3.org/2000/svg';

export interface PanelOptions {
  /** Document to build in (jsdom in tests); the global one by default. */
  document?: Document;
}

export type Svg = Selection<SVGSVGElement, unknown, null, undefined>;
export type Group = Selection<SVGGElement, unknown, null, undefined>;

/**
 * A panel's root: fixed size, inline font and colours (so an exported file looks like the page), an accessible
 * name, and the visible title at the top left.
 */
export function createPanel(options: PanelOptions, width: number, height: number, title: string): Svg {
  const doc = options.document ?? document;
  const svg = select(doc.createElementNS(SVG_NS, 'svg') as SVGSVGElement)
    .attr('xmlns', SVG_NS)
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('font-family', FONT_FAMILY)
    .attr('font-size', 11)
    .attr('fill', '#222')
    .attr('role', 'img')
    .attr('aria-label', title);
  svg.append('rect').attr('width', width).attr('height', height).attr('fill', '#fff');
  svg.append('text').attr('class', 'panel-title').attr('x', 8).attr('y', 18).attr('font-size', 14).attr('font-weight', 'bold').text(title);
  return svg;
}

/** A token as a label: its whitespace made visible, long tokens cut. */
export function tokenText(label: string, maxChars = 12): string {
  const visible = label.replace(/ /g, '␣').replace(/\n/g, '↵').replace(/\t/g, '⇥');
  return visible.length > maxChars ? `${visible.slice(0, maxChars - 1)}…` : visible;
}

/** Rough width of a label in pixels; jsdom cannot measure text, and panels must lay out the same there. */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** Greedy word wrap to lines no wider than `maxWidth` by textWidth's estimate. */
export function wrapText(text: string, maxWidth: number, fontSize: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && textWidth(candidate, fontSize) > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line) lines.push(line);
  return lines;
}
