/** `npm run bench`: every benchmark, each printing its ratio to a baseline (or its target) measured in the same run. */
import { runClassifierAccuracy } from './classifier-accuracy.js';
import { runEngineBenchmark } from './engine.js';
import { runHttpBenchmark } from './http.js';
import { runReplayBenchmark } from './replay.js';
import { runSqliteCommitBenchmark } from './sqlite-commit.js';
import { runStepBenchmark } from './step.js';

console.log('== step (booking flow, JSON in/out per message)');
runStepBenchmark();
console.log('== classifier accuracy on held-out paraphrases (target >= 90%)');
const accuracy = runClassifierAccuracy();
console.log(
  `held-out ${(accuracy.accuracy * 100).toFixed(1)}% (${accuracy.correct}/${accuracy.total}), fresh ${accuracy.freshAccuracy === null ? 'n/a' : `${(accuracy.freshAccuracy * 100).toFixed(1)}%`}`,
);
console.log('== replay of 100,000 recorded messages (target: under a minute)');
await runReplayBenchmark();
console.log(
  '== SQLite adapter per message: reads + commit, 50 in flight (memory without copies is the baseline)',
);
await runSqliteCommitBenchmark();
console.log('== engine.handleInbound per storage adapter (memory is the baseline)');
await runEngineBenchmark();
console.log('== Twilio inbound webhook over HTTP, SQLite (a bare fixed-TwiML handler is the baseline)');
await runHttpBenchmark();
