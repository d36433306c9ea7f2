#!/usr/bin/env node
// Writes public/models/manifest.json: every file of every bundled model folder with its byte size and sha256. The
// loader checks each file it downloads against it, so a half-copied or stale model fails loudly instead of running.
//   node tools/make_manifest.mjs          regenerate the manifest (run it after adding or retraining a model)
//   node tools/make_manifest.mjs --check  exit 1, listing the differences, if the committed manifest is out of date
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const modelsDir = new URL('../public/models/', import.meta.url).pathname;
const manifestPath = join(modelsDir, 'manifest.json');
const MANIFEST_VERSION = 1;

async function sha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The manifest for what is on disk now: models and files in sorted order, so regenerating is byte-stable. */
async function buildManifest() {
  const models = {};
  const folders = readdirSync(modelsDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  for (const folder of folders.map((entry) => entry.name).sort()) {
    const files = {};
    const root = join(modelsDir, folder);
    // Paths use '/' whatever the OS, because the loader joins them into URLs.
    for (const path of filesUnder(root).map((p) => relative(root, p).split(sep).join('/')).sort()) {
      const absolute = join(root, path);
      files[path] = { size: statSync(absolute).size, sha256: await sha256(absolute) };
    }
    models[folder] = { files };
  }
  return `${JSON.stringify({ version: MANIFEST_VERSION, models }, null, 2)}\n`;
}

function describeDifferences(committed, current) {
  const lines = [];
  const was = committed.models ?? {};
  const now = current.models;
  for (const model of new Set([...Object.keys(was), ...Object.keys(now)])) {
    const before = was[model]?.files ?? {};
    const after = now[model]?.files ?? {};
    for (const file of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const a = before[file];
      const b = after[file];
      if (!a) lines.push(`${model}/${file}: on disk but not in the manifest`);
      else if (!b) lines.push(`${model}/${file}: in the manifest but not on disk`);
      else if (a.size !== b.size || a.sha256 !== b.sha256) lines.push(`${model}/${file}: changed on disk`);
    }
  }
  return lines;
}

const manifest = await buildManifest();
if (process.argv.includes('--check')) {
  let committedText = '';
  try {
    committedText = readFileSync(manifestPath, 'utf8');
  } catch {
    console.error(`${manifestPath} is missing: run node tools/make_manifest.mjs`);
    process.exit(1);
  }
  if (committedText !== manifest) {
    let differences;
    try {
      differences = describeDifferences(JSON.parse(committedText), JSON.parse(manifest));
    } catch {
      differences = [];
    }
    if (differences.length === 0) differences = ['the file is not in the generated form'];
    console.error(`public/models/manifest.json is out of date; run node tools/make_manifest.mjs\n  ${differences.join('\n  ')}`);
    process.exit(1);
  }
  console.log('public/models/manifest.json matches the files on disk');
} else {
  writeFileSync(manifestPath, manifest);
  console.log(`wrote ${manifestPath}`);
}
