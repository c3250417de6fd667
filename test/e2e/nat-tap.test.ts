import t from 'tap';
import { forwardingScenario } from './scenarios.js';

t.test('NAT over tap: real HTTP through the VIP', async (t) => {
  await forwardingScenario(t, { mode: 'nat', backend: 'tap', prefix: 'e2natt-' });
});
