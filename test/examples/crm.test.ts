// The demo's SQLite CRM runs the library's CRM contract, merges leads per phone and keeps them across a reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteCrm } from '../../examples/server/crm.js';
import { crmContract } from '../../src/testing/actions-contract.js';

const ctx = (effectId: string) => ({ effectId, contact: '+14155550100', threadId: 'th-1' });

crmContract({ name: 'demo sqlite crm', create: () => sqliteCrm({ database: new Database(':memory:') }) });

describe('demo sqlite crm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-crm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('merges fields and tags per phone, keeps owner and score, and survives a reopen', async () => {
    const path = join(dir, 'crm.db');
    const db = new Database(path);
    const crm = sqliteCrm({ database: db });
    const phone = '+14155550123';
    const first = await crm.upsertLead(
      { phone, fields: { need: 'wedding hair' }, tags: ['lead'], score: 40 },
      ctx('a'),
    );
    await crm.upsertLead(
      { phone, fields: { email: 'ann@example.com' }, tags: ['lead', 'lead:hot'] },
      ctx('b'),
    );
    db.close();
    const leads = sqliteCrm({ database: new Database(path) }).leads();
    expect(leads).toMatchObject([
      {
        leadId: first.leadId,
        phone,
        fields: { need: 'wedding hair', email: 'ann@example.com' },
        tags: ['lead', 'lead:hot'],
        score: 40,
      },
    ]);
  });

  it('refuses a lead without a phone number', async () => {
    const crm = sqliteCrm({ database: new Database(':memory:') });
    await expect(crm.upsertLead({ phone: '', fields: {}, tags: [] }, ctx('x'))).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_PROVIDER',
    });
  });
});
