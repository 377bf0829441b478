import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { builtInFlowNames, loadBot, loadBuiltInFlow } from '../../src/cli/load-bot.js';
import {
  exportTranscripts,
  parseJsonl,
  type RecordedConversation,
  replayConversation,
  toJsonl,
} from '../../src/cli/replay.js';
import { toMermaid } from '../../src/cli/visualize.js';
import type { ConversationState } from '../../src/core/types.js';

const root = join(import.meta.dirname, '..', '..');
const cache = join(root, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const tmp = mkdtempSync(join(cache, 'smsflow-tools-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasDot = spawnSync('dot', ['-V']).status === 0;
const builtIn = await Promise.all(builtInFlowNames.map(async (n) => [n, await loadBuiltInFlow(n)] as const));

describe('smsflow visualize', () => {
  it('draws the booking flow as Mermaid with guards on the edges', () => {
    const r = cli('visualize', 'booking');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stateDiagram-v2');
    expect(r.stdout).toContain('askTime --> checking : user.text [slotOk]');
    expect(r.stdout).toContain('booked --> [*]');
  });

  it('draws DOT with clusters, and JSON that parses to the machine definition', () => {
    const dot = cli('visualize', 'booking', '--format', 'dot');
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph "booking" \{/);
    expect(dot.stdout).toContain('subgraph "cluster_askTime"');
    const json = cli('visualize', 'booking', '--format', 'json');
    expect(json.code).toBe(0);
    const def = JSON.parse(json.stdout) as { id: string; states: { [k: string]: unknown } };
    expect(def.id).toBe('booking');
    expect(Object.keys(def.states)).toContain('confirm');
  });

  it.skipIf(hasDot)('[because Graphviz is not installed] --format svg explains and exits 1', () => {
    const r = cli('visualize', 'booking', '--format', 'svg');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SVG needs Graphviz');
  });

  it.skipIf(!hasDot)(
    `${hasDot ? '' : '[because Graphviz is not installed] '}--format svg renders an <svg>`,
    () => {
      const r = cli('visualize', 'booking', '--format', 'svg');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('<svg');
    },
  );

  it('exits 2 on an unknown format', () => {
    const r = cli('visualize', 'booking', '--format', 'png');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be mermaid, dot, json or svg, got "png"');
  });

  // A committed diagram that no longer matches its machine is stale documentation.
  for (const [name, flow] of builtIn) {
    it.skipIf(!flow)(
      `${flow ? '' : `[because machines/ has no ${name} flow yet] `}docs/flows/${name}.mmd matches the machine`,
      () => {
        const file = join(root, 'docs', 'flows', `${flow!.id}.mmd`);
        const fix = `regenerate it: npx tsx src/cli/main.ts visualize ${name} --out docs/flows/${flow!.id}.mmd`;
        expect(existsSync(file), `docs/flows/${flow!.id}.mmd is missing; ${fix}`).toBe(true);
        expect(readFileSync(file, 'utf8'), `docs/flows/${flow!.id}.mmd is stale; ${fix}`).toBe(
          toMermaid(flow!),
        );
      },
    );
  }
});

describe('smsflow replay', () => {
  let recorded: RecordedConversation;
  const writeJsonl = async (name: string, conversations: RecordedConversation[]) => {
    const file = join(tmp, name);
    writeFileSync(file, toJsonl(conversations));
    return file;
  };

  it('exportTranscripts builds the format from a storage adapter, and it replays without divergence', async () => {
    const bot = await loadBot('booking');
    const storage = memoryStorage();
    let state: ConversationState | undefined;
    let version = 0;
    const texts = ['I want to book', '2', 'tomorrow 3pm'];
    for (const [i, text] of texts.entries()) {
      const r = bot.step(state, {
        id: `SM${i}`,
        from: '+14155550100',
        to: '+14155550199',
        text,
        receivedAt: new Date(Date.parse('2026-11-24T17:00:00Z') + i * 60_000).toISOString(),
      });
      const c = await storage.commit({
        key: r.state.contact.key,
        expectedVersion: version,
        state: r.state,
        events: r.events,
        outbox: [],
      });
      if (!c.ok) throw new Error('commit failed');
      version = c.version;
      state = r.state;
    }
    const [exported] = await exportTranscripts(storage);
    recorded = exported!;
    expect(recorded.key).toBe('sms:+14155550100');
    expect(recorded.messages.map((m) => m.text)).toEqual(texts);
    expect(recorded.replies[1]).toEqual([expect.stringMatching(/^Great, a Color/)]);
    // Recorded before the calendar answered: the replay answers it, so only the final state differs.
    expect(recorded.finalState).toEqual({ flow: 'booking', value: 'checking' });
    const replayed = replayConversation(bot, recorded);
    expect(replayed.diffs.map((d) => d.index)).toEqual([2, -1]);
    expect(parseJsonl(toJsonl([recorded]))).toEqual([recorded]);
  });

  it('exits 0 and prints the summary when nothing diverges', async () => {
    const bot = await loadBot('booking');
    const replies = replayConversation(bot, { ...recorded, replies: [], finalState: undefined }).diffs.map(
      (d) => d.actual as string[],
    );
    const same = { ...recorded, replies, finalState: { flow: 'booking', value: 'confirm' } };
    const r = cli('replay', await writeJsonl('same.jsonl', [same]), '--bot', 'booking');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/diverged\s+0/);
    expect(r.stdout).toMatch(/messages\s+3/);
  });

  it('exits 1 with a readable diff when replies or the final state changed; --json for machines', async () => {
    const changed = {
      ...recorded,
      replies: [recorded.replies[0]!, ['Which colour?'], recorded.replies[2]!],
      finalState: { flow: 'booking', value: 'askService' },
    };
    const file = await writeJsonl('changed.jsonl', [changed]);
    const r = cli('replay', file, '--bot', 'booking');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('x sms:+14155550100');
    expect(r.stdout).toContain('message 2: > 2');
    expect(r.stdout).toContain('- "Which colour?"');
    expect(r.stdout).toMatch(/\+ "Great, a Color/);
    expect(r.stdout).toContain('- {"flow":"booking","value":"askService"}');
    const json = cli('replay', file, '--bot', 'booking', '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { summary: { diverged: number }; diverged: { key: string }[] };
    expect(report.summary.diverged).toBe(1);
  });

  it('exits 2 without --bot, or on a line that is not a conversation', async () => {
    expect(cli('replay', 'x.jsonl').code).toBe(2);
    const bad = join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"key":"a","messages":[],"replies":[]}\nnot json\n');
    const r = cli('replay', bad, '--bot', 'booking');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('line 2 of the transcripts file is not JSON');
  });
});

describe('smsflow lint', () => {
  it('passes the demo booking bot (exit 0)', () => {
    const r = cli('lint', 'booking');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 error(s)');
  });

  it('finds structure, template and carrier problems in a bad bot (exit 1)', () => {
    const bot = join(tmp, 'bad-bot.ts');
    writeFileSync(
      bot,
      `import { setup } from 'xstate';
import { flowActions } from '${root}/src/core/flow.js';
const machine = setup({ actions: { ...flowActions } }).createMachine({
  id: 'promo', initial: 'ask',
  states: {
    ask: { entry: { type: 'reply', params: { key: 'ask' } }, on: { 'user.text': 'stuck' } },
    stuck: {},
    orphan: { type: 'final' },
  },
});
export const bot = {
  program: { name: 'Promo Co', helpContact: 'call 415-555-0100' },
  timeZone: 'America/New_York',
  complianceMessages: { optIn: '{program}: You are back in.' },
  flows: [{ id: 'promo', machine, intents: ['promo'], messages: {
    ask: 'HUGE SALE TODAY ONLY! Reply YES. Get 50% off at bit.ly/deal',
    long: 'x'.repeat(200),
    fancy: 'Thanks for visiting \u201cour\u201d shop',
  } }],
};
`,
    );
    const r = cli('lint', bot, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { level: string; rule: string; where: string }[] };
    const found = report.findings.map((f) => `${f.level} ${f.rule} ${f.where}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'error unreachable-state promo.orphan',
        'warning dead-end promo.stuck',
        'error url-shortener promo.messages.ask',
        'warning all-caps promo.messages.ask',
        'error segment-budget promo.messages.long',
        'error gsm7 promo.messages.fancy',
        'error opt-in-disclosure complianceMessages.optIn',
        'warning intent-examples promo.intents.promo',
        'warning opt-in-description program.optInDescription',
        'warning frequency program.frequency',
      ]),
    );
    expect(found).not.toContain('warning dead-end promo.ask');
  });
});
