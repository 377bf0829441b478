import { existsSync, readFileSync } from 'node:fs';
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
