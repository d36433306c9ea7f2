#!/usr/bin/env node
/**
 * npm run selections -- --model recall-lm --prompt prompt.txt --technique sliding-window --param windowTokens=32 \
 *   [--technique ID [--param KEY=VALUE]...]... [--no-qk] [--out selections.json]
 *
 * Runs a bundled model on the prompt file's text with the techniques switched on, in Node on Dawn (npm `webgpu`), and
 * writes what each layer's attention read (README.md, "Headless selections"). The TypeScript (src/cli/selections.ts)
 * is loaded through Vite's SSR module loader, so Node 20 needs no TypeScript support of its own.
 * Exit codes: 0 ok; 1 an error (message on stderr); 3 the CPU twin's selections differ from the GPU's (the JSON is
 * still written and lists the differences under selectionCheck).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE =
  'usage: npm run selections -- --model NAME --prompt FILE [--technique ID [--param KEY=VALUE]...]... [--no-qk] [--out FILE]';

function parseArgs(argv) {
  const options = { model: undefined, promptFile: undefined, techniques: [], includeQk: true, out: 'selections.json' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a value\n${USAGE}`);
      return next;
    };
    if (arg === '--model') options.model = value();
    else if (arg === '--prompt') options.promptFile = value();
    else if (arg === '--out') options.out = value();
    else if (arg === '--no-qk') options.includeQk = false;
    else if (arg === '--technique') options.techniques.push({ id: value(), params: {} });
    else if (arg === '--param') {
      const pair = value();
      const current = options.techniques.at(-1);
      if (!current) throw new Error(`--param ${pair} must follow the --technique it belongs to\n${USAGE}`);
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--param ${pair}: expected KEY=VALUE`);
      current.params[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!options.model) throw new Error(`--model is required\n${USAGE}`);
  if (!options.promptFile) throw new Error(`--prompt is required\n${USAGE}`);
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    server: { middlewareMode: true, hmr: false, watch: null },
    appType: 'custom',
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  try {
    const cli = await server.ssrLoadModule('/src/cli/selections.ts');
    const prompt = cli.readPromptFile(options.promptFile);
    const report = await cli.runSelections({ model: options.model, prompt, techniques: options.techniques, includeQk: options.includeQk });
    writeFileSync(options.out, JSON.stringify(report));
    const { flops, selectionCheck } = report;
    console.log(
      `${report.model}: ${report.ids.length} tokens, ${report.layers.length} layers, techniques ${report.techniques.map((t) => t.id).join(', ') || 'none'}; ` +
        `attention density ${flops.attentionDensity.toFixed(4)}, FLOPs ${flops.perSample.flops} (${(flops.flopRatio * 100).toFixed(1)}% of dense); wrote ${options.out}`,
    );
    if (!selectionCheck.agree) {
      console.error(`the CPU twin's selections differ from the GPU's: ${selectionCheck.mismatches.map((m) => `layer ${m.layer}${m.head === null ? '' : ` head ${m.head}`}: ${m.what}`).join('; ')}`);
      process.exitCode = 3;
    }
  } finally {
    await server.close();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(`selections: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
