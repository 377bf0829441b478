/** `npm run bench`: every benchmark, each printing its ratio to a baseline measured in the same run. */
import { runStepBenchmark } from './step.js';

console.log('== step (booking flow, JSON in/out per message)');
runStepBenchmark();
