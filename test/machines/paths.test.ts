import { describe } from 'vitest';
import { loadBuiltInFlow, loadBuiltInFlows } from '../../src/cli/load-bot.js';
import { createBot } from '../../src/core/bot.js';
import { pathSnapshots } from '../../src/testing/path-snapshots.js';
import { salonConfig } from '../support/salon.js';

// One snapshot per generated conversation path of each built-in flow. Each flow runs in a bot with every
// built-in flow present (so hand-overs between flows work), with that flow as the default.
const all = await loadBuiltInFlows();
for (const name of ['booking', 'lead', 'faq']) {
  const flow = await loadBuiltInFlow(name);
  describe.skipIf(!flow)(
    `[${flow ? 'built-in flow' : `because machines/ has no ${name} flow yet`}] ${name} paths`,
    () => {
      if (!flow) return;
      const others = all.filter((f) => f.id !== flow.id);
      const bot = createBot(salonConfig({ flows: [flow, ...others] }));
      pathSnapshots(bot, { flow: flow.id, prefix: name });
    },
  );
}
