import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteStorage } from '../../../src/adapters/storage/sqlite.js';
import { storageContract } from '../../../src/testing/storage-contract.js';
import { row, stateFor } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'smsflow-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storageContract({ name: 'sqlite (:memory:)', create: () => sqliteStorage({ path: ':memory:' }) });
storageContract({
  name: 'sqlite (file)',
  create: () => sqliteStorage({ path: join(dir, `contract-${n++}.db`) }),
});

describe('sqliteStorage', () => {
  it('persists across reopen and uses WAL for a file', async () => {
    const path = join(dir, 'reopen.db');
    const first = sqliteStorage({ path });
    expect(
      await first.commit({ key: 'k', expectedVersion: 0, state: stateFor('k'), events: [], outbox: [] }),
    ).toEqual({
      ok: true,
      version: 1,
    });
    await first.close();
    const second = sqliteStorage({ path });
    expect((await second.getConversation('k'))?.version).toBe(1);
    await second.close();
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('uses a host database with a table prefix and leaves it open on close', async () => {
    const db = new Database(':memory:');
    const s = sqliteStorage({ database: db, tablePrefix: 'bot_' });
    await s.commit({ key: 'k', expectedVersion: 0, state: stateFor('k'), events: [], outbox: [] });
    await s.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT count(*) AS c FROM bot_conversations').get()).toEqual({ c: 1 });
    db.close();
  });

  it('rejects a missing path and a bad prefix with a config error', () => {
    expect(() => sqliteStorage({})).toThrow(expect.objectContaining({ code: 'SMSFLOW_ERR_INVALID_CONFIG' }));
    expect(() => sqliteStorage({ path: ':memory:', tablePrefix: 'x; DROP' })).toThrow(
      /tablePrefix.*"x; DROP"/,
    );
  });

  it('several processes claiming from one file never get the same row', async () => {
    const path = join(dir, 'procs.db');
    const setup = sqliteStorage({ path });
    const rows = Array.from({ length: 60 }, (_, i) => row(`r${i}`));
    await setup.commit({ key: 'k', expectedVersion: 0, state: stateFor('k'), events: [], outbox: rows });
    await setup.close();
    const adapter = fileURLToPath(new URL('../../../src/adapters/storage/sqlite.ts', import.meta.url));
    const script = `
      const { sqliteStorage } = await import(${JSON.stringify(adapter)});
      const s = sqliteStorage({ path: ${JSON.stringify(path)} });
      const ids = [];
      for (let i = 0; i < 20; i++) {
        const got = await s.claimOutbox({ owner: String(process.pid), now: '2026-01-01T00:01:00.000Z', leaseMs: 60000, limit: 2 });
        ids.push(...got.map((r) => r.id));
      }
      await s.close();
      console.log(JSON.stringify(ids));`;
    const run = promisify(execFile);
    const outs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]),
      ),
    );
    const ids = outs.flatMap((o) => JSON.parse(o.stdout) as string[]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
  });
});

describe('sqliteStorage errors', () => {
  it('reports a driver failure as a storage error naming the adapter', async () => {
    const db = new Database(':memory:');
    const s = sqliteStorage({ database: db });
    db.close();
    await expect(s.getConversation('k')).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_STORAGE',
      message: expect.stringContaining('[sqlite] getConversation failed'),
    });
  });
});
