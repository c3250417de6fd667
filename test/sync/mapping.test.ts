// ulvs <-> IPVS: state numbers, flags, and the kernel's maxlen rule.
import t from 'tap';

import { TCP_STATE_NAMES } from '../../src/conntrack/tcp-states.js';
import { ipvsStateFromName, ipvsStateOf, readSyncFlags, syncFlagsFor, ulvsStateOf } from '../../src/sync/mapping.js';
import { IP_VS_TCP_S_ESTABLISHED, IP_VS_TCP_S_SYNACK, syncMaxLen } from '../../src/sync/wire.js';

t.test('TCP states are IPVS numbers both ways; UDP has one state', async (t) => {
  for (let s = 0; s < 11; s++) {
    t.equal(ipvsStateOf(6, s), s);
    t.equal(ulvsStateOf(6, s), s);
    t.equal(ipvsStateFromName(6, TCP_STATE_NAMES[s]), s, TCP_STATE_NAMES[s]);
  }
  t.equal(ipvsStateFromName(6, 'ESTABLISHED'), IP_VS_TCP_S_ESTABLISHED);
  t.equal(ipvsStateFromName(6, 'SYNACK'), IP_VS_TCP_S_SYNACK);
  t.equal(ulvsStateOf(6, 11), -1, 'IP_VS_TCP_S_LAST is not a state');
  t.equal(ipvsStateOf(6, 11), -1);
  t.equal(ipvsStateOf(17, 0), 0);
  t.equal(ulvsStateOf(17, 0), 0);
  t.equal(ulvsStateOf(17, 1), -1);
  t.equal(ipvsStateFromName(17, 'UDP'), 0);
  t.equal(ipvsStateFromName(6, 'UDP'), -1);
  t.equal(ipvsStateOf(132, 0), -1, 'SCTP is not forwarded by ulvs');
});

t.test('flags: forwarding method bits, NOOUTPUT except for NAT, template', async (t) => {
  t.equal(syncFlagsFor({ method: 'NAT' }), 0x0000);
  t.equal(syncFlagsFor({ method: 'DR' }), 0x0083);
  t.equal(syncFlagsFor({ method: 'TUN', inactive: true }), 0x0182);
  t.equal(syncFlagsFor({ method: 'DR', template: true, noClientPort: true }), 0x1883);
  t.same(readSyncFlags(0x1883), { method: 'DR', template: true, inactive: false, noOutput: true, noClientPort: true, inSeq: false, outSeq: false });
  t.same(readSyncFlags(0x0600), { method: 'NAT', template: false, inactive: false, noOutput: false, noClientPort: false, inSeq: true, outSeq: true });
  t.equal(readSyncFlags(0x0001).method, null, 'LOCALNODE');
  t.equal(readSyncFlags(0x0004).method, null, 'BYPASS');
});

t.test('maxlen as start_sync_thread() computes it', async (t) => {
  t.equal(syncMaxLen('master', 1500), 1472);
  t.equal(syncMaxLen('master', 9000), 1472, 'a master ignores a jumbo MTU so every backup can take it');
  t.equal(syncMaxLen('backup', 9000), 8972);
  t.equal(syncMaxLen('backup', 1400), 1472, 'a backup reads at least 1500 - 28');
  t.equal(syncMaxLen('master', 1500, 100), 100);
  t.equal(syncMaxLen('backup', 1500, 100), 1024, 'a backup takes at least 1024');
  t.equal(syncMaxLen('master', 1500, 70000), 65507);
});
