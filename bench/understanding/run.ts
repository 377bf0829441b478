/**
 * `npm run bench:understanding`: the end-to-end understanding figures of issue 25 with their targets. The
 * conversations run through `createEngine` with memory storage and the memory actions (conversations.ts).
 * The date/time and opt-out measures (`datetime.ts`, `opt-outs.ts`) are composed here as they land.
 *
 *   npm run bench:understanding [-- --verbose]
 */
import { parseArgs } from 'node:util';
import { runConversations } from './conversations.js';
import { loadCorpus } from './corpus.js';
import { printReport } from './report.js';

const { values } = parseArgs({ options: { verbose: { type: 'boolean', default: false } } });
const corpus = loadCorpus();
const started = performance.now();
const run = await runConversations(corpus);
const seconds = (performance.now() - started) / 1000;

console.log(
  `== conversations: ${run.metrics.conversations} scripted salon conversations end to end (${seconds.toFixed(1)} s)`,
);
printReport(run, { verbose: values.verbose === true });
