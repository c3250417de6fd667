import t from 'tap';
import { forwardingScenario } from './scenarios.js';
t.test('IPv4 DR over afxdp still forwards with the IPv6-aware XDP program', async (t) => {
  await forwardingScenario(t, { mode: 'dr', backend: 'afxdp', prefix: 'vdq-' });
});
t.test('IPv4 NAT over afxdp still forwards', async (t) => {
  await forwardingScenario(t, { mode: 'nat', backend: 'afxdp', prefix: 'vdr-' });
});
