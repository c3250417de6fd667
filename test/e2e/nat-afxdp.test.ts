import t from 'tap';
import { forwardingScenario } from './scenarios.js';

t.test('NAT over afxdp: real HTTP through the VIP', async (t) => {
  await forwardingScenario(t, { mode: 'nat', backend: 'afxdp', prefix: 'e2nata-' });
});
