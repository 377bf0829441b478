import { defineConfig } from 'tsup';
import { distName, publicEntries } from './exports.config.js';

export default defineConfig({
  entry: {
    ...Object.fromEntries(Object.entries(publicEntries).map(([subpath, file]) => [distName(subpath), file])),
    // The CLI is a bin (bin/smsflow.mjs loads it), not an import path.
    'cli/main': 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  external: ['better-sqlite3', 'pg', 'ioredis', 'vitest', 'bullmq', 'tsx'],
});
