import t from 'tap';
import { forwardingScenario } from './scenarios.js';

t.test('DR over afxdp: real HTTP through the VIP', async (t) => {
  await forwardingScenario(t, { mode: 'dr', backend: 'afxdp', prefix: 'e2dra-' });
});
