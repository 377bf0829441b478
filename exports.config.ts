/**
 * The public subpaths, in one place: tsup builds one entry per line, `scripts/sync-exports.ts` writes the
 * matching `exports` map into package.json, and test/package/exports.test.ts fails when they disagree.
 */
export const publicEntries: Record<string, string> = {
  '.': 'src/index.ts',
  './testing': 'src/testing/index.ts',
  './twilio': 'src/exports/twilio.ts',
  './plivo': 'src/exports/plivo.ts',
  './vonage': 'src/exports/vonage.ts',
  './messagebird': 'src/exports/messagebird.ts',
  './bird': 'src/exports/bird.ts',
  './webchat': 'src/exports/webchat.ts',
  './sqlite': 'src/exports/sqlite.ts',
  './postgres': 'src/exports/postgres.ts',
  './redis': 'src/exports/redis.ts',
  './http': 'src/exports/http.ts',
  './actions': 'src/exports/actions.ts',
  './openai-compatible': 'src/exports/openai-compatible.ts',
  './proactive': 'src/exports/proactive.ts',
};

/** `'./twilio'` → `'twilio/index'` (the dist path without extension). */
export function distName(subpath: string): string {
  return subpath === '.' ? 'index' : `${subpath.slice(2)}/index`;
}
