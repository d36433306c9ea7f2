import { readdirSync, readFileSync } from 'node:fs';
import { basename, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Folders of src/ a panel must not reach: panels draw plain result data, whoever computed it and whoever shows it. */
const FORBIDDEN_FOLDERS = new Set(['runtime', 'ui', 'state']);

/** Module specifiers `source` imports or re-exports: `… from '…'`, `import '…'` and `import('…')`. */
function importedSpecifiers(source: string): string[] {
  return [...source.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => (match[1] ?? match[2])!);
}

/** The specifiers of a src/panels file that resolve into a forbidden folder of src/. */
function forbiddenImports(source: string): string[] {
  return importedSpecifiers(source).filter((specifier) => {
    if (!specifier.startsWith('.')) return false;
    const [root, folder] = posix.join('src/panels', specifier).split('/');
    return root === 'src' && folder !== undefined && FORBIDDEN_FOLDERS.has(folder);
  });
}

describe('panels take plain result data only', () => {
  it('no file in src/panels imports from src/runtime, src/ui or src/state', () => {
    const folder = new URL('.', import.meta.url);
    // This file quotes forbidden imports as test data below.
    const self = basename(fileURLToPath(import.meta.url));
    const files = readdirSync(folder).filter((file) => /\.tsx?$/.test(file) && file !== self);
    expect(files).toContain('imagePatchesData.ts');
    const offending = files.flatMap((file) => forbiddenImports(readFileSync(new URL(file, folder), 'utf8')).map((specifier) => `${file}: ${specifier}`));
    expect(offending).toEqual([]);
  });

  it('the scan sees every form of import and lets plain-data modules through', () => {
    const source = [
      "import type { ImageRunOutput } from '../runtime/runner';",
      "import {\n  usePlayground,\n} from '../state/store';",
      "export { SvgPanel } from '../ui/SvgPanel';",
      "const later = () => import('../runtime');",
      "import '../ui/styles.css';",
      "import { format } from 'd3';",
      "import type { FlopReport } from '../flops/countFlops';",
      "import { createPanel } from './svg';",
    ].join('\n');
    expect(forbiddenImports(source)).toEqual(['../runtime/runner', '../state/store', '../ui/SvgPanel', '../runtime', '../ui/styles.css']);
  });
});
