/** Writes package.json `exports` from exports.config.ts. Run after adding a subpath: `npx tsx scripts/sync-exports.ts`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { distName, publicEntries } from '../exports.config.js';

export function exportsMap(): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const subpath of Object.keys(publicEntries)) {
    const base = `./dist/${distName(subpath)}`;
    map[subpath] = {
      import: { types: `${base}.d.ts`, default: `${base}.js` },
      require: { types: `${base}.d.cts`, default: `${base}.cjs` },
    };
  }
  map['./package.json'] = './package.json';
  return map;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  pkg.exports = exportsMap();
  writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
}
