import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in Debian's Chromium with SwiftShader's CPU WebGPU adapter (../shared/platform.md): Playwright
 * never downloads a browser of its own. The page is the production build, served on loopback (WebGPU needs a secure
 * context, and localhost is one).
 */
// E2E_PORT lets two checkouts on one machine run their suites side by side, each against its own build.
const PORT = Number(process.env['E2E_PORT'] ?? 4173);

export default defineConfig({
  testDir: '.',
  snapshotPathTemplate: '{testDir}/__screenshots__/{testFilePath}/{arg}{ext}',
  // SwiftShader is CPU-bound: one page at a time on a 2-core machine.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: {
    timeout: 60_000,
    toHaveScreenshot: { animations: 'disabled', caret: 'hide', scale: 'css', maxDiffPixels: 0 },
  },
  reporter: process.env['CI'] ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--enable-unsafe-swiftshader',
        '--use-angle=swiftshader',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        // Pixel-stable text: no LCD subpixel positioning or hinting differences between runs.
        '--font-render-hinting=none',
        '--disable-lcd-text',
      ],
    },
  },
  webServer: {
    command: `npx vite build --logLevel warn && npx vite preview --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    cwd: '..',
    reuseExistingServer: !process.env['CI'],
    timeout: 180_000,
  },
});
