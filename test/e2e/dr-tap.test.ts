import t from 'tap';
import { forwardingScenario } from './scenarios.js';

t.test('DR over tap: real HTTP through the VIP', async (t) => {
  await forwardingScenario(t, { mode: 'dr', backend: 'tap', prefix: 'e2drt-' });
});
