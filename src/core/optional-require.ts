/**
 * A CommonJS `require` for optional peer dependencies (better-sqlite3), that works in both builds: the ESM build
 * derives one from this module's URL (there, `require` is tsup's stand-in, which throws), the CJS build, where
 * `import.meta` is empty, uses its own.
 */
import { createRequire } from 'node:module';

/**
 * The `require` to load an optional driver with.
 *
 * @example
 * const Database = optionalRequire()('better-sqlite3');
 */
export function optionalRequire(): NodeJS.Require {
  const url = (import.meta as { url?: string }).url;
  return url ? createRequire(url) : require;
}
