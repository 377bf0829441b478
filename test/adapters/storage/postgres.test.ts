import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../../src/adapters/storage/postgres.js';
import { storageContract } from '../../../src/testing/storage-contract.js';
import { claimInProcesses, row, stateFor } from './support.js';

const url = process.env.DATABASE_URL;
const skip = url ? undefined : 'DATABASE_URL is not set';
const schemaName = () => `smsflow_test_${randomUUID().replaceAll('-', '')}`;
// One host pool for the whole file; every case gets its own schema, dropped afterwards.
let pool: pg.Pool | undefined;
const getPool = () => {
  pool ??= new pg.Pool({ connectionString: url, max: 20 });
  return pool;
};
const schemas = new WeakMap<object, string>();
const dropSchema = (schema: string) => getPool().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
afterAll(async () => {
  await pool?.end();
});

storageContract({
  name: 'postgres',
  skip,
  create: () => {
    const schema = schemaName();
    const s = postgresStorage({ pool: getPool(), schema });
    schemas.set(s, schema);
    return s;
  },
  destroy: async (s) => {
    await s.close();
    await dropSchema(schemas.get(s)!);
  },
});

const state = stateFor('k');

describe.skipIf(!url)(`${skip ? `[because ${skip}] ` : ''}postgresStorage`, () => {
  const schema = schemaName();
  beforeAll(async () => {
    await dropSchema(schema);
  });
  afterAll(async () => {
    await dropSchema(schema);
  });

  it('migrate() is idempotent, also when several processes run it at once', async () => {
    const adapters = Array.from({ length: 4 }, () =>
      postgresStorage({ connectionString: url, schema, tablePrefix: 'bot_', autoMigrate: false }),
    );
    await Promise.all(adapters.map((a) => a.migrate()));
    await adapters[0]!.migrate();
    const tables = await getPool().query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'bot_conversations',
      'bot_events',
      'bot_idempotency',
      'bot_outbox',
    ]);
    expect(
      await adapters[1]!.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] }),
    ).toEqual({
      ok: true,
      version: 1,
    });
    await Promise.all(adapters.map((a) => a.close()));
  });

  it('migrate() installs the commit function once per schema and prefix; running it again changes nothing', async () => {
    const schema = schemaName();
    const s = postgresStorage({ pool: getPool(), schema, tablePrefix: 'fn_', autoMigrate: false });
    const fns = () =>
      getPool().query(
        `SELECT p.proname, p.xmin::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = $1`,
        [schema],
      );
    await s.migrate();
    const installed = (await fns()).rows;
    expect(installed).toEqual([{ proname: 'fn_commit_v1', xmin: expect.any(String) }]);
    await postgresStorage({ pool: getPool(), schema, tablePrefix: 'fn_' }).migrate();
    expect((await fns()).rows).toEqual(installed); // not replaced: same catalog row version
    expect(await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] })).toEqual({
      ok: true,
      version: 1,
    });
    await dropSchema(schema);
  });

  it('a schema from before the commit function: a clear error without migrate(), then migrate() upgrades it', async () => {
    const schema = schemaName();
    // The tables as the previous release created them (no function), with one conversation in them.
    await getPool().query(`CREATE SCHEMA "${schema}";
      CREATE TABLE "${schema}".conversations (key text PRIMARY KEY, version integer NOT NULL, state jsonb NOT NULL,
        updated_at timestamptz NOT NULL);
      CREATE TABLE "${schema}".events (seq bigserial PRIMARY KEY, conversation_key text NOT NULL,
        thread_id text NOT NULL, at timestamptz NOT NULL, event jsonb NOT NULL);
      CREATE TABLE "${schema}".outbox (id text PRIMARY KEY, conversation_key text NOT NULL, status text NOT NULL,
        created_at timestamptz NOT NULL, due_at timestamptz, provider_message_id text,
        updated_at timestamptz NOT NULL, row jsonb NOT NULL);
      CREATE TABLE "${schema}".idempotency (key text PRIMARY KEY, result jsonb NOT NULL,
        created_at timestamptz NOT NULL);`);
    await getPool().query(`INSERT INTO "${schema}".conversations VALUES ('k', 3, $1, now())`, [
      JSON.stringify(state),
    ]);
    const s = postgresStorage({ pool: getPool(), schema, autoMigrate: false });
    const input = {
      key: 'k',
      expectedVersion: 3,
      state,
      events: [],
      outbox: [row('r1')],
      idempotency: { key: 'in:1', result: { replies: [] } },
    };
    await expect(s.commit(input)).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_STORAGE',
      message: expect.stringContaining('run storage.migrate()'),
    });
    await s.migrate();
    expect(await s.loadForStep!('k', 'in:1')).toEqual({
      recorded: null,
      conversation: { key: 'k', version: 3, state },
    });
    expect(await s.commit(input)).toEqual({ ok: true, version: 4 });
    expect(await s.commit(input)).toEqual({ ok: false, reason: 'duplicate', result: { replies: [] } });
    expect((await s.listOutbox('k')).map((r) => r.id)).toEqual(['r1']);
    await dropSchema(schema);
  });

  it('works without prepared statements (for poolers that cannot keep them)', async () => {
    const schema = schemaName();
    const s = postgresStorage({ connectionString: url, schema, preparedStatements: false });
    expect(await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] })).toEqual({
      ok: true,
      version: 1,
    });
    expect(await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] })).toEqual({
      ok: false,
      reason: 'conflict',
    });
    expect((await s.getConversation('k'))?.version).toBe(1);
    await s.close();
    await dropSchema(schema);
  });

  it('several processes claiming from one database never get the same row', async () => {
    const schema = schemaName();
    const s = postgresStorage({ pool: getPool(), schema });
    const rows = Array.from({ length: 60 }, (_, i) => row(`r${i}`));
    await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: rows });
    const ids = await claimInProcesses('postgresStorage', { connectionString: url, schema });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
    await dropSchema(schema);
  });

  it('works with a host pool and leaves it open on close', async () => {
    const host = new pg.Pool({ connectionString: url, max: 2 });
    const s = postgresStorage({ pool: host, schema, tablePrefix: 'host_' });
    await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] });
    await s.close();
    expect((await host.query(`SELECT version FROM "${schema}".host_conversations`)).rows).toEqual([
      { version: 1 },
    ]);
    await host.end();
  });

  it('reports an unreachable server as a storage error and rejects bad names as config errors', async () => {
    const s = postgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:1/none', schema });
    await expect(s.getConversation('k')).rejects.toMatchObject({ code: 'SMSFLOW_ERR_STORAGE' });
    await s.close();
    expect(() => postgresStorage({ connectionString: url, schema: 'a"; DROP' })).toThrow(
      /schema.*"a\\"; DROP"/,
    );
    expect(() => postgresStorage({})).toThrow(
      expect.objectContaining({ code: 'SMSFLOW_ERR_INVALID_CONFIG' }),
    );
  });
});
