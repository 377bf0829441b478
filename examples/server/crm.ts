/**
 * The demo salon's CRM: leads from the lead qualification flow, kept in SQLite beside the conversations and
 * listed on the dashboard's Leads page. It implements {@link CrmAdapter} and passes the library's CRM contract
 * (`crmContract` from `smsflow/testing`, run in test/examples/crm.test.ts). A real host would call HubSpot or
 * its own CRM behind the same interface.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { CrmAdapter } from '../../src/adapters/actions/types.js';
import { SmsflowError } from '../../src/core/errors.js';
import type { Json } from '../../src/core/types.js';
import { effectLedger } from './effect-ledger.js';

/** A lead as the dashboard lists it. */
export interface CrmLead {
  leadId: string;
  phone: string;
  fields: { [name: string]: Json };
  tags: string[];
  owner?: string;
  score?: number;
  /** ISO time of the last upsert. */
  updatedAt: string;
}

/** The SQLite CRM: a {@link CrmAdapter} plus `leads()` for the dashboard. */
export interface SqliteCrm extends CrmAdapter {
  /** Leads, most recently updated first. */
  leads(limit?: number): CrmLead[];
}

const NAME = 'demo-crm';

interface LeadRow {
  lead_id: string;
  phone: string;
  fields: string;
  tags: string;
  owner: string | null;
  score: number | null;
  updated_at: string;
}

const toLead = (row: LeadRow): CrmLead => ({
  leadId: row.lead_id,
  phone: row.phone,
  fields: JSON.parse(row.fields) as CrmLead['fields'],
  tags: JSON.parse(row.tags) as string[],
  ...(row.owner !== null ? { owner: row.owner } : {}),
  ...(row.score !== null ? { score: row.score } : {}),
  updatedAt: row.updated_at,
});

/**
 * Creates the SQLite CRM (tables `demo_leads` and `demo_crm_effects`, created when missing). One lead per phone
 * number: a later upsert merges its fields key by key, adds new tags once, and replaces the owner or score when
 * given. Idempotent on `context.effectId`.
 *
 * @param options - `database`: an open better-sqlite3 database; `clock` for `updatedAt` (default now).
 * @returns A {@link SqliteCrm} named `demo-crm`.
 * @example
 * const crm = sqliteCrm({ database: new Database('data/smsflow.db') });
 * const engine = createEngine({ bot, storage, actions: { crm } });
 */
export function sqliteCrm(options: { database: Database.Database; clock?: () => Date }): SqliteCrm {
  const db = options.database;
  const clock = options.clock ?? (() => new Date());
  db.exec(`CREATE TABLE IF NOT EXISTS demo_leads (lead_id TEXT PRIMARY KEY, phone TEXT NOT NULL UNIQUE,
    fields TEXT NOT NULL, tags TEXT NOT NULL, owner TEXT, score REAL, updated_at TEXT NOT NULL)`);
  const ledger = effectLedger(db, 'demo_crm_effects', NAME);
  const byPhone = db.prepare('SELECT * FROM demo_leads WHERE phone = ?');
  const save = db.prepare(
    `INSERT INTO demo_leads (lead_id, phone, fields, tags, owner, score, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (phone) DO UPDATE SET fields = excluded.fields, tags = excluded.tags, owner = excluded.owner,
       score = excluded.score, updated_at = excluded.updated_at`,
  );
  return {
    name: NAME,
    async upsertLead(lead, context) {
      return ledger.once('upsertLead', context, () => {
        if (typeof lead.phone !== 'string' || !/^\+?\d{3,20}$/.test(lead.phone))
          throw new SmsflowError(
            'SMSFLOW_ERR_PROVIDER',
            `[${NAME}] upsertLead needs an E.164 phone such as +14155550100, received ${JSON.stringify(String(lead.phone).slice(0, 40))}.`,
          );
        const old = byPhone.get(lead.phone) as LeadRow | undefined;
        const current: Omit<CrmLead, 'phone' | 'updatedAt'> = old
          ? toLead(old)
          : {
              leadId: `lead_${createHash('sha256').update(lead.phone).digest('hex').slice(0, 16)}`,
              fields: {},
              tags: [],
            };
        const owner = lead.owner ?? current.owner;
        const score = lead.score ?? current.score;
        save.run(
          current.leadId,
          lead.phone,
          JSON.stringify({ ...current.fields, ...(lead.fields ?? {}) }),
          JSON.stringify([...new Set([...current.tags, ...(lead.tags ?? [])])]),
          owner ?? null,
          typeof score === 'number' && Number.isFinite(score) ? score : null,
          clock().toISOString(),
        );
        return { leadId: current.leadId, ...(owner !== undefined ? { owner } : {}) };
      });
    },
    leads(limit = 200) {
      return (
        db
          .prepare('SELECT * FROM demo_leads ORDER BY updated_at DESC, rowid DESC LIMIT ?')
          .all(limit) as LeadRow[]
      ).map(toLead);
    },
  };
}
