/** `npm run bench`: every benchmark, each printing its ratio to a baseline measured in the same run. */
import { runEngineBenchmark } from './engine.js';
import { runStepBenchmark } from './step.js';

console.log('== step (booking flow, JSON in/out per message)');
runStepBenchmark();
console.log('== engine.handleInbound per storage adapter (memory is the baseline)');
await runEngineBenchmark();
