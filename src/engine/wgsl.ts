/**
 * The one preprocessing step our WGSL needs: `#include "file.wgsl"` on a line of its own, resolved against the shader
 * library, each file at most once per shader (WGSL rejects duplicate declarations). Everything else that varies is an
 * `override` constant or a uniform, never pasted text.
 */
export class WgslIncludeError extends Error {
  override name = 'WgslIncludeError';
}

const includeLine = /^[ \t]*#include[ \t]+"([^"]+)"[ \t]*$/gm;

export function preprocessWgsl(source: string, library: Readonly<Record<string, string>>): string {
  const included = new Set<string>();
  const expand = (text: string, chain: readonly string[]): string =>
    text.replace(includeLine, (_line, name: string) => {
      if (chain.includes(name)) throw new WgslIncludeError(`#include cycle: ${[...chain, name].join(' → ')}`);
      if (included.has(name)) return '';
      const body = library[name];
      if (body === undefined) throw new WgslIncludeError(`#include "${name}": no such shader in the library`);
      included.add(name);
      return expand(body, [...chain, name]);
    });
  return expand(source, []);
}
