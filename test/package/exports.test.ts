import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { distName, publicEntries } from '../../exports.config.js';
import { exportsMap } from '../../scripts/sync-exports.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

describe('package exports', () => {
  it('package.json exports match exports.config.ts', () => {
    expect(pkg.exports).toEqual(exportsMap());
  });

  it('every entry source file exists', () => {
    for (const file of Object.values(publicEntries)) expect(existsSync(file), file).toBe(true);
  });

  // The built files exist only after `npm run build` (CI builds before testing).
  it.skipIf(!existsSync('dist'))(
    'every exported file exists after the build [skipped when dist/ is absent: run npm run build]',
    () => {
      for (const subpath of Object.keys(publicEntries)) {
        for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) {
          const file = `dist/${distName(subpath)}${ext}`;
          expect(existsSync(file), file).toBe(true);
        }
      }
    },
  );

  // A regression: the ESM build's `require` is tsup's stand-in, which threw "Dynamic require of
  // better-sqlite3 is not supported", so `smsflow/sqlite` failed in every ESM host.
  it.skipIf(!existsSync('dist'))(
    'the built SQLite adapter and job store load their driver from ESM and CJS [skipped when dist/ is absent: run npm run build]',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'smsflow-dist-'));
      try {
        const script = (entry: string, load: string) => `
          ${load}
          const storage = sqliteStorage({ path: ${JSON.stringify(join(dir, `${entry}.db`))} });
          const jobs = sqliteJobStore({ path: ${JSON.stringify(join(dir, `${entry}-jobs.db`))} });
          const r = await storage.getConversation('k');
          await storage.close();
          console.log(JSON.stringify({ r, jobs: typeof jobs }));`;
        const esm = script(
          'esm',
          `const { sqliteStorage } = await import(${JSON.stringify(resolve('dist/sqlite/index.js'))});
           const { sqliteJobStore } = await import(${JSON.stringify(resolve('dist/proactive/index.js'))});`,
        );
        const cjs = `(async () => { ${script(
          'cjs',
          `const { sqliteStorage } = require(${JSON.stringify(resolve('dist/sqlite/index.cjs'))});
           const { sqliteJobStore } = require(${JSON.stringify(resolve('dist/proactive/index.cjs'))});`,
        )} })();`;
        const run = promisify(execFile);
        for (const [args, code] of [
          [['--input-type=module', '-e'], esm],
          [['--input-type=commonjs', '-e'], cjs],
        ] as const) {
          const { stdout } = await run(process.execPath, [...args, code], { cwd: dir });
          expect(JSON.parse(stdout)).toEqual({ r: null, jobs: 'object' });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('the root entry exports the documented API', async () => {
    const root = await import('../../src/index.js');
    for (const name of [
      'createBot',
      'createEngine',
      'bookingFlow',
      'leadQualificationFlow',
      'faqTriageFlow',
      'memoryStorage',
      'detectCompliance',
      'measureSegments',
      'normalizePhone',
      'parseDateTime',
      'trainClassifier',
      'understand',
      'isSmsflowError',
      'migrateState',
    ]) {
      expect(typeof (root as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('the root entry pulls in no driver library', () => {
    const src = readFileSync('src/index.ts', 'utf8');
    expect(src).not.toMatch(/storage\/(sqlite|postgres|redis)/);
  });
});
