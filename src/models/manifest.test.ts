import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundledModels } from './bundledModels';
import type { Manifest } from './modelFiles';

const root = new URL('../../', import.meta.url);

describe('public/models/manifest.json', () => {
  it('matches the bundled model files on disk (else: node tools/make_manifest.mjs)', () => {
    // The script's --check mode is the single definition of "up to date"; its output names each stale file.
    const check = () => execFileSync(process.execPath, ['tools/make_manifest.mjs', '--check'], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
    expect(check).not.toThrow();
  });

  it('lists every model the picker offers, with the files the loader needs', () => {
    const manifest = JSON.parse(readFileSync(new URL('public/models/manifest.json', root), 'utf8')) as Manifest;
    for (const { id } of bundledModels) {
      expect(Object.keys(manifest.models[id]?.files ?? {}), id).toEqual(expect.arrayContaining(['config.json', 'model.safetensors']));
    }
  });
});
