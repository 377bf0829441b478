/** `npm run bench`: every benchmark, each printing its ratio to a baseline measured in the same run. */
import { runEngineBenchmark } from './engine.js';
import { runHttpBenchmark } from './http.js';
import { runStepBenchmark } from './step.js';

console.log('== step (booking flow, JSON in/out per message)');
runStepBenchmark();
console.log('== engine.handleInbound per storage adapter (memory is the baseline)');
await runEngineBenchmark();
console.log('== Twilio inbound webhook over HTTP, SQLite (a bare fixed-TwiML handler is the baseline)');
await runHttpBenchmark();
