import { expect, it } from 'vitest';
import { type GeneratedPath, generatePaths, type PathOptions } from '../cli/paths.js';
import type { Bot } from '../core/bot.js';

/** Options of {@link pathSnapshots}: which flow, how many paths and how deep (see `smsflow paths`). */
export interface PathSnapshotOptions extends PathOptions {
  /** Prefix of each test's name. @default 'path' */
  prefix?: string;
}

/**
 * Defines one vitest `it` per conversation path through a flow, each snapshotting the transcript the bot
 * actually produces (`> customer`, `< bot`, `* effect result`, `= where it ended`). A change in wording,
 * routing or a transition shows up as a readable snapshot diff; accept intended ones with `vitest -u`.
 * Paths come from xstate/graph over real `bot.step` calls (see `generatePaths`); call inside `describe`.
 *
 * @param bot - the bot to step
 * @param options - flow (default the first), maxPaths (50), maxDepth (10), strategy
 * @returns the generated paths (already registered as tests)
 * @example
 * describe('booking paths', () => {
 *   pathSnapshots(createBot(config), { flow: 'booking' });
 * });
 */
export function pathSnapshots(bot: Bot, options: PathSnapshotOptions = {}): GeneratedPath[] {
  const paths = generatePaths(bot, options);
  const prefix = options.prefix ?? 'path';
  it(`${prefix}: at least one path is generated`, () => {
    expect(paths.length).toBeGreaterThan(0);
  });
  for (const path of paths) {
    it(`${prefix} ${path.name}`, () => {
      expect(path.transcript).toMatchSnapshot();
    });
  }
  return paths;
}
