#!/usr/bin/env node
// The `smsflow` launcher: registers tsx (so bot files written in TypeScript load), then runs the CLI from the
// sources in a checkout, or from the build in an installed package.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let tsx = false;
try {
  const { register } = await import('tsx/esm/api');
  register();
  tsx = true;
} catch {
  // tsx is a dev dependency: without it the CLI still runs, but only .js/.mjs bot files load.
}
const src = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/cli/main.js', import.meta.url);
const entry = tsx && existsSync(fileURLToPath(src)) ? src : dist;
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'smsflow: the CLI is not built. Run "npm run build", or install tsx to run it from src.\n',
  );
  process.exit(1);
}
const { runFromProcess } = await import(entry.href);
await runFromProcess();
