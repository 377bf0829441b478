import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteStorage } from '../../../src/adapters/storage/sqlite.js';
import { storageContract } from '../../../src/testing/storage-contract.js';
import { row, stateFor, T } from './support.js';

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

/**
 * Writes the tables as releases before transcript chains created them (an index on (conversation_key, seq),
 * no links), with a conversation at version 1 for each key and one row per event.
 */
function legacyFile(raw: Database.Database, rows: Array<[key: string, thread: string, event: object]>): void {
  raw.exec(`
    CREATE TABLE smsflow_conversations (key TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL,
      updated_ms INTEGER NOT NULL);
    CREATE INDEX smsflow_conversations_updated ON smsflow_conversations (updated_ms);
    CREATE TABLE smsflow_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, conversation_key TEXT NOT NULL,
      thread_id TEXT NOT NULL, at_ms INTEGER NOT NULL, event TEXT NOT NULL);
    CREATE INDEX smsflow_events_key ON smsflow_events (conversation_key, seq);
    CREATE INDEX smsflow_events_at ON smsflow_events (at_ms);
    CREATE TABLE smsflow_outbox (id TEXT PRIMARY KEY, conversation_key TEXT NOT NULL, status TEXT NOT NULL,
      created_ms INTEGER NOT NULL, due_ms INTEGER, provider_message_id TEXT, updated_ms INTEGER NOT NULL,
      row TEXT NOT NULL);
    CREATE INDEX smsflow_outbox_due ON smsflow_outbox (due_ms) WHERE due_ms IS NOT NULL;
    CREATE INDEX smsflow_outbox_key ON smsflow_outbox (conversation_key, created_ms);
    CREATE INDEX smsflow_outbox_provider ON smsflow_outbox (provider_message_id);
    CREATE TABLE smsflow_idempotency (key TEXT PRIMARY KEY, result TEXT NOT NULL, at_ms INTEGER NOT NULL);
    CREATE INDEX smsflow_idempotency_at ON smsflow_idempotency (at_ms);
  `);
  for (const key of new Set(rows.map(([key]) => key))) {
    raw
      .prepare('INSERT INTO smsflow_conversations (key, version, state, updated_ms) VALUES (?, 1, ?, ?)')
      .run(key, JSON.stringify(stateFor(key)), Date.parse(T));
  }
  const insert = raw.prepare(
    'INSERT INTO smsflow_events (conversation_key, thread_id, at_ms, event) VALUES (?, ?, ?, ?)',
  );
  for (const [key, thread, event] of rows) insert.run(key, thread, Date.parse(T), JSON.stringify(event));
}

describe('sqliteStorage transcript rows', () => {
  const ev = (id: string, threadId: string, at: string) =>
    ({ id, threadId, at, type: 'inbound', data: { text: id } }) as const;

  it('links the transcript of a file written before chains once, drops the index they replace, and goes on from it', async () => {
    const path = join(dir, 'legacy-chain.db');
    const raw = new Database(path);
    // Two conversations' rows interleaved, as concurrent traffic wrote them.
    legacyFile(raw, [
      ['a', 't1', ev('a0', 't1', T)],
      ['b', 't2', ev('b0', 't2', T)],
      ['a', 't1', ev('a1', 't1', T)],
      ['b', 't2', ev('b1', 't2', T)],
      ['a', 't3', ev('a2', 't3', T)],
    ]);
    // Two processes open the file at once: one migrates, the other finds it done.
    const [first, second] = [sqliteStorage({ path }), sqliteStorage({ path })];
    const indexes = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'smsflow_events'")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(indexes).toEqual(['smsflow_events_at']);
    expect(raw.prepare('SELECT seq, prev_seq FROM smsflow_events ORDER BY seq').all()).toEqual([
      { seq: 1, prev_seq: null },
      { seq: 2, prev_seq: null },
      { seq: 3, prev_seq: 1 },
      { seq: 4, prev_seq: 2 },
      { seq: 5, prev_seq: 3 },
    ]);
    expect((await second.listEvents('a')).map((e) => e.id)).toEqual(['a0', 'a1', 'a2']);
    expect((await second.listEvents('a', { threadId: 't1' })).map((e) => e.id)).toEqual(['a0', 'a1']);
    expect((await second.listEvents('b')).map((e) => e.id)).toEqual(['b0', 'b1']);
    expect(await first.listEvents('nobody')).toEqual([]);
    await first.commit({
      key: 'b',
      expectedVersion: 1,
      state: stateFor('b'),
      events: [ev('b2', 't2', T)],
      outbox: [],
    });
    await second.commit({
      key: 'c',
      expectedVersion: 0,
      state: stateFor('c'),
      events: [ev('c0', 't4', T)],
      outbox: [],
    });
    expect((await second.listEvents('b')).map((e) => e.id)).toEqual(['b0', 'b1', 'b2']);
    expect((await first.listEvents('c')).map((e) => e.seq)).toEqual([7]);
    await Promise.all([first.close(), second.close()]);
    // Opening it again changes nothing.
    const again = sqliteStorage({ path });
    expect((await again.listEvents('a')).map((e) => e.id)).toEqual(['a0', 'a1', 'a2']);
    await again.close();
    raw.close();
  });

  it('keeps one chain per conversation when two connections commit it in turn, and across a group commit', async () => {
    const path = join(dir, 'two-writers.db');
    const [a, b] = [sqliteStorage({ path }), sqliteStorage({ path })];
    const ids: string[] = [];
    let version = 0;
    for (let i = 0; i < 6; i++) {
      const writer = i % 3 === 0 ? b : a; // a commits twice in a row, then b: a's remembered row must not be reused
      const stored = await writer.getConversation('k');
      expect(stored?.version ?? 0).toBe(version);
      const events = [ev(`m${i}a`, 't', T), ev(`m${i}b`, 't', T)];
      ids.push(...events.map((e) => e.id));
      expect(
        await writer.commit({ key: 'k', expectedVersion: version, state: stateFor('k'), events, outbox: [] }),
      ).toMatchObject({ ok: true });
      version++;
    }
    expect((await a.listEvents('k')).map((e) => e.id)).toEqual(ids);
    expect((await b.listEvents('k')).map((e) => e.id)).toEqual(ids);
    // Commits of one turn share a transaction: a conflicting one among them takes no seq from the others.
    const results = await Promise.all([
      a.commit({
        key: 'k',
        expectedVersion: version,
        state: stateFor('k'),
        events: [ev('g0', 't', T)],
        outbox: [],
      }),
      a.commit({
        key: 'k',
        expectedVersion: version,
        state: stateFor('k'),
        events: [ev('lost', 't', T)],
        outbox: [],
      }),
      a.commit({
        key: 'x',
        expectedVersion: 0,
        state: stateFor('x'),
        events: [ev('x0', 't', T), ev('x1', 'u', T)],
        outbox: [],
      }),
      a.commit({
        key: 'y',
        expectedVersion: 0,
        state: stateFor('y'),
        events: [ev('y0', 't', T)],
        outbox: [],
      }),
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    const all = [...(await b.listEvents('k')), ...(await b.listEvents('x')), ...(await b.listEvents('y'))];
    expect(all.map((e) => e.id)).toEqual([...ids, 'g0', 'x0', 'x1', 'y0']);
    expect(new Set(all.map((e) => e.seq)).size).toBe(all.length);
    await Promise.all([a.close(), b.close()]);
  });

  it('waits for another connection holding the write lock past busy_timeout before migrating (as during a long migration)', async () => {
    const path = join(dir, 'legacy-busy.db');
    const raw = new Database(path);
    legacyFile(raw, [
      ['a', 't1', ev('a0', 't1', T)],
      ['a', 't1', ev('a1', 't1', T)],
    ]);
    raw.pragma('journal_mode = WAL');
    raw.prepare('BEGIN IMMEDIATE').run(); // what a process migrating a large file holds meanwhile
    const adapter = fileURLToPath(new URL('../../../src/adapters/storage/sqlite.ts', import.meta.url));
    const script = `
      const { sqliteStorage } = await import(${JSON.stringify(adapter)});
      console.log('opening');
      const s = sqliteStorage({ path: ${JSON.stringify(path)}, busyTimeoutMs: 20 });
      console.log(JSON.stringify((await s.listEvents('a')).map((e) => e.id)));
      await s.close();`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    let out = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('opening')) resolve();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 400)); // many times the child's busy_timeout
    raw.prepare('COMMIT').run();
    expect({ code: await exited, errors }).toEqual({ code: 0, errors: '' });
    expect(out.trim().split('\n').at(-1)).toBe(JSON.stringify(['a0', 'a1']));
    raw.close();
  });

  it('walks the chain by seq lookups, never scanning the events table (query plan)', async () => {
    // A host's own connection: the test sees each statement the adapter prepares.
    const db = new Database(':memory:');
    const prepared: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    const s = sqliteStorage({ database: db });
    const listSql = prepared.find((sql) => sql.includes('WITH RECURSIVE'));
    expect(listSql).toBeDefined();
    const plan = (prepare(`EXPLAIN QUERY PLAN ${listSql}`).all('k', null, null) as { detail: string }[]).map(
      (row) => row.detail,
    );
    expect(plan.filter((detail) => /^SCAN (e|smsflow_events)\b/.test(detail))).toEqual([]);
    expect(plan.filter((detail) => detail.startsWith('SEARCH e USING INTEGER PRIMARY KEY'))).toHaveLength(2);
    await s.close();
    db.close();
  });

  it("stores a commit's events of one thread as one row, reads rows written one event each, and keeps every seq unique and ordered", async () => {
    const path = join(dir, 'rows.db');
    // An older release wrote one row per event: a file with such a row, then new commits after it.
    const raw = new Database(path);
    legacyFile(raw, [['k', 't', ev('legacy', 't', T)]]);
    const s = sqliteStorage({ path });
    const later = '2026-01-01T00:05:00.000Z';
    await s.commit({
      key: 'k',
      expectedVersion: 1,
      state: stateFor('k'),
      // Two threads in one commit (a thread ending and the next starting): one row per run of a thread.
      events: [ev('a0', 't', T), ev('a1', 't', later), ev('b0', 't2', later), ev('b1', 't2', later)],
      outbox: [],
    });
    await s.commit({
      key: 'k',
      expectedVersion: 2,
      state: stateFor('k'),
      events: [ev('c0', 't2', later)],
      outbox: [],
    });
    expect(raw.prepare('SELECT count(*) AS n FROM smsflow_events').get()).toEqual({ n: 4 });
    const all = await s.listEvents('k');
    expect(all.map((e) => e.id)).toEqual(['legacy', 'a0', 'a1', 'b0', 'b1', 'c0']);
    expect(all[1]).toEqual({ ...ev('a0', 't', T), conversationKey: 'k', seq: all[1]!.seq });
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect((await s.listEvents('k', { threadId: 't2' })).map((e) => e.id)).toEqual(['b0', 'b1', 'c0']);
    // Purge counts events, not rows; a row goes only once its newest event is old ('a0' waits for 'a1').
    expect(await s.purge('2026-01-01T00:01:00.000Z')).toBe(1);
    expect((await s.listEvents('k')).map((e) => e.id)).toEqual(['a0', 'a1', 'b0', 'b1', 'c0']);
    expect(await s.purge('2026-01-01T01:00:00.000Z')).toBe(5);
    // With every row gone, new events still number after every seq ever given out.
    await s.commit({
      key: 'k',
      expectedVersion: 3,
      state: stateFor('k'),
      events: [ev('d0', 't2', later), ev('d1', 't2', later)],
      outbox: [],
    });
    const after = await s.listEvents('k');
    expect(after.map((e) => e.id)).toEqual(['d0', 'd1']);
    expect(after[0]!.seq).toBeGreaterThan(Math.max(...seqs));
    raw.close();
    await s.close();
  });
});

describe('sqliteStorage state cache', () => {
  const load = (s: ReturnType<typeof sqliteStorage>, key: string, idempotencyKey: string) =>
    s.loadForStep!(key, idempotencyKey);
  const commitState = (s: ReturnType<typeof sqliteStorage>, key: string, version: number, tag: string) =>
    s.commit({
      key,
      expectedVersion: version,
      state: { ...stateFor(key), tags: [tag] },
      events: [],
      outbox: [],
    });

  it('hands the engine the state it committed without reading it back, and reads again once another process wrote the file', async () => {
    const path = join(dir, 'cache.db');
    const a = sqliteStorage({ path });
    const b = sqliteStorage({ path }); // another connection: to SQLite, another process
    await commitState(a, 'k', 0, 'from-a');
    const first = await load(a, 'k', 'in:1');
    expect(first.conversation).toMatchObject({ version: 1, state: { tags: ['from-a'] } });
    expect((await load(a, 'k', 'in:1')).conversation).toBe(first.conversation); // no read, no parse
    expect(await a.getConversation('k')).not.toBe(first.conversation); // other callers get their own copy
    await commitState(b, 'k', 1, 'from-b');
    expect((await load(a, 'k', 'in:1')).conversation).toMatchObject({
      version: 2,
      state: { tags: ['from-b'] },
    });
    // A commit on a stale version is refused and forgets the entry; the next load reads.
    expect(await commitState(a, 'k', 1, 'stale')).toEqual({ ok: false, reason: 'conflict' });
    expect((await load(a, 'k', 'in:1')).conversation?.version).toBe(2);
    await a.close();
    await b.close();
  });

  it('keeps at most stateCacheSize conversations, and none with 0', async () => {
    const small = sqliteStorage({ path: join(dir, 'cache-small.db'), stateCacheSize: 2 });
    for (const key of ['x', 'y', 'z']) await commitState(small, key, 0, key);
    const z = (await load(small, 'z', 'in:1')).conversation;
    expect((await load(small, 'z', 'in:1')).conversation).toBe(z);
    const x = (await load(small, 'x', 'in:1')).conversation; // evicted: read from the file
    expect(x).toMatchObject({ version: 1, state: { tags: ['x'] } });
    expect((await load(small, 'x', 'in:1')).conversation).not.toBe(x);
    await small.close();
    const off = sqliteStorage({ path: join(dir, 'cache-off.db'), stateCacheSize: 0 });
    await commitState(off, 'k', 0, 'k');
    const loaded = (await load(off, 'k', 'in:1')).conversation;
    expect((await load(off, 'k', 'in:1')).conversation).not.toBe(loaded);
    expect(loaded).toMatchObject({ version: 1 });
    await off.close();
  });
});

describe('sqliteStorage reads of one turn', () => {
  const turnEnds = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
  // busy = 1: a reader still holds part of the log, so it cannot be moved into the file and emptied.
  const truncate = (raw: Database.Database) =>
    (raw.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>)[0]!.busy;

  it('the loads of one turn share a read transaction, which ends with the turn', async () => {
    const path = join(dir, 'turn-end.db');
    const s = sqliteStorage({ path, checkpoint: 'inline' });
    await s.commit({ key: 'k', expectedVersion: 0, state: stateFor('k'), events: [], outbox: [row('r1')] });
    const raw = new Database(path);
    raw.pragma('busy_timeout = 0');
    const loads = [s.loadForStep!('k', 'in:1'), s.loadForStep!('k', 'in:2')]; // the reads run now
    expect(truncate(raw)).toBe(1); // the adapter's read transaction is open
    expect((await Promise.all(loads)).map((l) => l.conversation?.version)).toEqual([1, 1]);
    await turnEnds();
    expect(truncate(raw)).toBe(0); // and ended with the turn: nothing holds the log
    raw.close();
    await s.close();
  });

  it('a write in the same turn ends the read transaction first, so it sees what another process wrote', async () => {
    const path = join(dir, 'turn-write.db');
    const s = sqliteStorage({ path, checkpoint: 'inline' });
    await s.commit({ key: 'k', expectedVersion: 0, state: stateFor('k'), events: [], outbox: [row('r1')] });
    const raw = new Database(path);
    const loaded = s.loadForStep!('k', 'in:1'); // opens the turn's read transaction on the file as it is now
    raw.prepare(`UPDATE smsflow_outbox SET updated_ms = updated_ms + 1 WHERE id = 'r1'`).run(); // another process
    // A write on the stale snapshot would fail (SQLITE_BUSY_SNAPSHOT); ended first, it goes through.
    expect(await s.updateOutbox('r1', { status: 'sent' }, T)).toBe(true);
    expect(
      await s.commit({ key: 'k', expectedVersion: 1, state: stateFor('k'), events: [], outbox: [] }),
    ).toEqual({
      ok: true,
      version: 2,
    });
    expect((await loaded).conversation?.version).toBe(1);
    expect(
      JSON.parse(
        (raw.prepare(`SELECT row FROM smsflow_outbox WHERE id = 'r1'`).get() as { row: string }).row,
      ),
    ).toMatchObject({
      status: 'sent',
    });
    raw.close();
    await s.close();
  });

  it('never leaves a host-opened database in a transaction', async () => {
    const db = new Database(join(dir, 'turn-host.db'));
    const s = sqliteStorage({ database: db });
    await s.commit({ key: 'k', expectedVersion: 0, state: stateFor('k'), events: [], outbox: [] });
    const loaded = s.loadForStep!('k', 'in:1');
    expect(db.inTransaction).toBe(false); // the host may begin its own transaction right away
    expect((await loaded).conversation?.version).toBe(1);
    await s.close();
    db.close();
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

  it('refuses a state that is not JSON at once with a storage error; the commits queued with it are stored', async () => {
    const s = sqliteStorage({ path: ':memory:' });
    const state = stateFor('bad') as unknown as Record<string, unknown>;
    state.profile = { visits: 1n }; // a BigInt: JSON.stringify throws
    const results = await Promise.allSettled([
      s.commit({ key: 'ok1', expectedVersion: 0, state: stateFor('ok1'), events: [], outbox: [row('r1')] }),
      s.commit({ key: 'bad', expectedVersion: 0, state: state as never, events: [], outbox: [row('r2')] }),
      s.commit({ key: 'ok2', expectedVersion: 0, state: stateFor('ok2'), events: [], outbox: [] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'SMSFLOW_ERR_STORAGE',
      message: expect.stringContaining('BigInt'),
    });
    expect(await s.getConversation('bad')).toBeNull();
    expect(await s.getOutboxMessage('r2')).toBeNull();
    expect((await s.getConversation('ok2'))?.version).toBe(1);
    await s.close();
  });

  it('refuses an idempotency result that is not JSON with a storage error, and stores nothing of that commit', async () => {
    const s = sqliteStorage({ path: ':memory:' });
    const commit = s.commit({
      key: 'k',
      expectedVersion: 0,
      state: stateFor('k'),
      events: [],
      outbox: [row('r1')],
      idempotency: { key: 'in:1', result: undefined as unknown as null },
    });
    await expect(commit).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_STORAGE',
      message: expect.stringContaining('idempotency key "in:1" could not be stored'),
    });
    expect(await s.getConversation('k')).toBeNull();
    expect(await s.listOutbox('k')).toEqual([]);
    expect(await s.getIdempotency('in:1')).toBeNull();
    await s.close();
  });
});

describe('sqliteStorage group commit', () => {
  const commitOf = (key: string, text = 'hi') => ({
    key,
    expectedVersion: 0,
    state: stateFor(key),
    events: [
      { id: `${key}:in`, threadId: 't', at: '2026-01-01T00:00:00.000Z', type: 'inbound', data: { text } },
    ],
    outbox: [{ ...row(`${key}:r0`), conversationKey: key }],
    idempotency: { key: `in:${key}`, result: { replies: [] } },
  });

  it('commits arriving together share a transaction, and one driver failure fails only its own commit', async () => {
    const db = new Database(':memory:');
    const s = sqliteStorage({ database: db });
    // A host trigger that refuses one event stands in for a driver failure in the middle of a batch.
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON smsflow_events WHEN NEW.event LIKE '%boom%'
      BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END`);
    const results = await Promise.allSettled([
      s.commit(commitOf('a')),
      s.commit(commitOf('b', 'boom')),
      s.commit(commitOf('c')),
      s.commit(commitOf('a')), // the same input again in the same batch: a duplicate of the first
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<unknown>).value).toEqual({ ok: true, version: 1 });
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'SMSFLOW_ERR_STORAGE',
      message: expect.stringContaining('refused by trigger'),
    });
    expect((results[3] as PromiseFulfilledResult<unknown>).value).toMatchObject({
      ok: false,
      reason: 'duplicate',
    });
    // Nothing of the failed commit is stored; everything of the others is.
    expect(await s.getConversation('b')).toBeNull();
    expect(await s.listOutbox('b')).toEqual([]);
    expect(await s.getIdempotency('in:b')).toBeNull();
    expect((await s.listEvents('a')).map((e) => e.id)).toEqual(['a:in']);
    expect((await s.listEvents('c')).map((e) => e.id)).toEqual(['c:in']);
    expect(await s.listOutbox('c')).toHaveLength(1);
    db.close();
  });

  it('keeps seqs unique and chains whole after a batch that rolled back, on a file it opened', async () => {
    // A file the adapter opened: it keeps the last seq and each conversation's last row in memory between
    // commits; a rolled-back batch must not leave them pointing at rows that were never written.
    const path = join(dir, 'seq-cache.db');
    const s = sqliteStorage({ path });
    expect(await s.commit(commitOf('a'))).toEqual({ ok: true, version: 1 });
    const next = (key: string, version: number, id: string) => ({
      ...commitOf(key),
      expectedVersion: version,
      events: [{ id, threadId: 't', at: '2026-01-01T00:00:00.000Z', type: 'inbound', data: { text: 'hi' } }],
      outbox: [],
      idempotency: { key: `in:${id}`, result: { replies: [] } },
    });
    const other = new Database(path);
    other.exec(`CREATE TRIGGER boom BEFORE INSERT ON smsflow_events WHEN NEW.event LIKE '%boom%'
      BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END`);
    // a's commit writes its row first, then b's fails: the batch rolls back and each commit runs again alone.
    const results = await Promise.allSettled([
      s.commit(next('a', 1, 'a:2')),
      s.commit(commitOf('b', 'boom')),
      s.commit(commitOf('c')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await s.commit(next('a', 2, 'a:3'))).toEqual({ ok: true, version: 3 });
    // Another connection writes a's conversation in between: the next commit links to its row.
    const b = sqliteStorage({ path, checkpoint: 'inline' });
    expect(await b.commit(next('a', 3, 'a:4'))).toEqual({ ok: true, version: 4 });
    expect(await s.commit(next('a', 4, 'a:5'))).toEqual({ ok: true, version: 5 });
    expect(await s.commit(next('c', 1, 'c:2'))).toEqual({ ok: true, version: 2 });
    expect((await s.listEvents('a')).map((e) => e.id)).toEqual(['a:in', 'a:2', 'a:3', 'a:4', 'a:5']);
    expect((await b.listEvents('c')).map((e) => e.id)).toEqual(['c:in', 'c:2']);
    const seqs = [...(await s.listEvents('a')), ...(await s.listEvents('c'))].map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    other.close();
    await Promise.all([s.close(), b.close()]);
  });

  it('a lock held by another process fails the whole batch once, not once per commit', async () => {
    const path = join(dir, 'locked.db');
    const s = sqliteStorage({ path, busyTimeoutMs: 200 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const t0 = Date.now();
    const results = await Promise.allSettled(['x', 'y', 'z', 'w'].map((k) => s.commit(commitOf(k))));
    const waited = Date.now() - t0;
    other.exec('ROLLBACK');
    other.close();
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'SMSFLOW_ERR_STORAGE' });
    // One busy wait (200 ms) for the batch; four would be 800 ms.
    expect(waited).toBeLessThan(600);
    expect(await s.commit(commitOf('x'))).toEqual({ ok: true, version: 1 });
    await s.close();
  });
});

describe('sqliteStorage checkpoints', () => {
  // One group commit of 200 conversations: ~500 KB of rows, well below SQLite's own 1,000-page trigger.
  const fill = async (s: ReturnType<typeof sqliteStorage>, n: number) => {
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const key = `c${i}`;
        const rows = Array.from({ length: 5 }, (_, j) => ({
          ...row(`${key}:r${j}`),
          conversationKey: key,
          text: 'x'.repeat(400),
        }));
        return s.commit({ key, expectedVersion: 0, state: stateFor(key), events: [], outbox: rows });
      }),
    );
    expect(results.every((r) => r.ok)).toBe(true);
  };
  const mainFileBytes = (path: string) => statSync(path).size;

  it('a worker thread moves the log into the database file, off the event loop', async () => {
    const path = join(dir, 'ckpt-background.db');
    const s = sqliteStorage({ path, checkpointIntervalMs: 10 });
    await fill(s, 200);
    const deadline = Date.now() + 3000;
    while (mainFileBytes(path) < 200_000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(mainFileBytes(path)).toBeGreaterThan(200_000);
    await s.close();
    const again = sqliteStorage({ path });
    expect((await again.getConversation('c199'))?.version).toBe(1);
    expect(await again.listOutbox('c199')).toHaveLength(5);
    await again.close();
  });

  it("'inline' leaves checkpoints to SQLite: the same rows stay in the log", async () => {
    const path = join(dir, 'ckpt-inline.db');
    const s = sqliteStorage({ path, checkpoint: 'inline' });
    await fill(s, 200);
    await new Promise((r) => setTimeout(r, 200));
    expect(mainFileBytes(path)).toBeLessThan(200_000);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(200_000);
    await s.close();
  });

  // Hosts start Node with flags of their own. Two broke the thread: `--input-type=module` made its CommonJS text
  // an ES module (the thread died at once, and close() then waited on it until the process quit with an unsettled
  // await, exit 13), and V8 flags such as `--max-old-space-size` made `new Worker` throw
  // ERR_WORKER_INVALID_EXEC_ARGV, so the adapter could not be created at all. The thread now takes no host flags.
  it.each([
    ['an ES module from the command line', ['--input-type=module']],
    ['V8 heap flags', ['--max-old-space-size=512', '--max-semi-space-size=32', '--input-type=module']],
  ])('the worker runs in a host started with %s, and close() returns', async (_what, flags) => {
    const path = join(dir, `ckpt-host-${flags.length}.db`);
    const adapter = fileURLToPath(new URL('../../../src/adapters/storage/sqlite.ts', import.meta.url));
    const script = `
      import { statSync } from 'node:fs';
      const { sqliteStorage } = await import(${JSON.stringify(adapter)});
      const s = sqliteStorage({ path: ${JSON.stringify(path)}, checkpointIntervalMs: 10 });
      const text = 'x'.repeat(400);
      const state = ${JSON.stringify(stateFor('k'))};
      const rows = Array.from({ length: 500 }, (_, i) => ({ ...${JSON.stringify(row('r'))}, id: 'r' + i, text }));
      await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: rows });
      const deadline = Date.now() + 3000;
      while (statSync(${JSON.stringify(path)}).size < 200000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const bytes = statSync(${JSON.stringify(path)}).size;
      await s.close();
      console.log(JSON.stringify({ bytes }));`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      ...flags,
      '-e',
      script,
    ]);
    // The main file grew: the thread checkpointed (inline checkpoints stay off until 20,000 pages).
    expect(JSON.parse(stdout).bytes).toBeGreaterThan(200_000);
  });

  it('refuses a checkpoint interval that is not a positive number', () => {
    expect(() => sqliteStorage({ path: join(dir, 'ckpt-bad.db'), checkpointIntervalMs: 0 })).toThrow(
      /checkpointIntervalMs/,
    );
  });
});
