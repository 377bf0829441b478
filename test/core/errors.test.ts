import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes, isSmsflowError, SmsflowError } from '../../src/core/errors.js';

describe('error registry', () => {
  it('docs/errors.md documents every code, and only registered codes', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const documented = [...doc.matchAll(/\| `(SMSFLOW_ERR_[A-Z_]+)` \|/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it('every code used in src/ is registered', () => {
    const used = new Set(
      execSync("grep -rhoE 'SMSFLOW_ERR_[A-Z_]+' src", { encoding: 'utf8' }).split('\n').filter(Boolean),
    );
    for (const code of used) expect(Object.keys(errorCodes), code).toContain(code);
  });

  it('isSmsflowError compares codes, not classes', () => {
    const foreign = { code: 'SMSFLOW_ERR_INVALID_PHONE', message: 'from another copy' };
    expect(isSmsflowError(foreign, 'SMSFLOW_ERR_INVALID_PHONE')).toBe(true);
    expect(isSmsflowError(new SmsflowError('SMSFLOW_ERR_CONFLICT', 'x'), 'SMSFLOW_ERR_INVALID_PHONE')).toBe(
      false,
    );
    expect(isSmsflowError(new Error('plain'))).toBe(false);
  });
});
