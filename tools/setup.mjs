#!/usr/bin/env node
// Installs what the playground or the test suite needs on a fresh machine, using nothing but Node's standard library
// (it runs before node_modules exists). npm packages come from the lockfile; Debian packages through apt-get when we
// are root, otherwise the exact command is printed and we stop.
//   node tools/setup.mjs           npm packages (enough to run the playground in your own browser)
//   node tools/setup.mjs --test    also Chromium, fonts and Mesa for the test suite
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const forTests = process.argv.includes('--test');

// Chromium + SwiftShader for Playwright, DejaVu for pixel-stable screenshots, Mesa's EGL/GLES for Dawn in Node.
const testPackages = ['chromium', 'fonts-dejavu-core', 'libegl1', 'libgles2', 'libegl-mesa0', 'libgl1-mesa-dri'];

function run(command, args) {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`setup: "${command} ${args.join(' ')}" failed (exit ${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

function npmPackagesAreCurrent() {
  const installed = `${root}node_modules/.package-lock.json`;
  return existsSync(installed) && statSync(installed).mtimeMs >= statSync(`${root}package-lock.json`).mtimeMs;
}

function missingDebianPackages(names) {
  return names.filter((name) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
    } catch {
      return true;
    }
  });
}

if (!npmPackagesAreCurrent()) run('npm', ['ci', '--no-audit', '--no-fund']);

if (forTests) {
  const missing = missingDebianPackages(testPackages);
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    if (!isRoot) {
      console.error(`setup: the test suite needs these Debian packages: ${missing.join(' ')}\nRun:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
      process.exit(1);
    }
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', ...missing]);
  }
}
