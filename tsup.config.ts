import { defineConfig } from 'tsup';

// One entry per public subpath; test/package/exports.test.ts checks this list against package.json.
export const entries = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
};

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  external: ['better-sqlite3', 'pg', 'ioredis', 'vitest'],
});
