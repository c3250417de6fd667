// ulvs <-> IPVS: state numbers, flags, and the kernel's maxlen rule.
import t from 'tap';
import { insertFlow } from '../conntrack/flow-calls.js';

import { TCP_STATE_NAMES } from '../../src/conntrack/tcp-states.js';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { decodeSyncMessage, encodeSyncMessages } from '../../src/sync/codec.js';
import {
  ipvsStateFromName, ipvsStateOf, readSyncFlags, syncFlagsFor, syncRecordFromFlow, syncRecordFromTemplate, ulvsStateOf,
} from '../../src/sync/mapping.js';
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

t.test('records from the flow table\'s own entries', async (t) => {
  const table = new FlowTable({ capacity: 16, seed: 1 });
  const VIP = 0xc6120064, RS = 0xc612000a, CLIENT = 0xc61200c8;
  const flow = insertFlow(table, 6, CLIENT, 40000, VIP, 80, 0, 1, RS, 80, 1, false);
  table.onTcpPacket(flow, true, 0x02, 1);
  table.onTcpPacket(flow, true, 0x10, 1);
  const udp = insertFlow(table, 17, CLIENT, 5353, VIP, 53, 0, 1, RS, 53, 1, false);
  table.onUdpPacket(udp, 1);
  const [tcpEntry, udpEntry] = table.snapshot(1);
  t.equal(tcpEntry.state, 'ESTABLISHED');
  const tcp = syncRecordFromFlow(tcpEntry, 'DR', 900);
  t.same(tcp, { family: 4, proto: 6, flags: 0x83, state: 1, clientPort: 40000, vport: 80, rsPort: 80, fwmark: 0, timeout: 900, clientIp: CLIENT, vip: VIP, rsIp: RS });
  t.same(syncRecordFromFlow(udpEntry, 'NAT', 300), { family: 4, proto: 17, flags: 0x100, state: 0, clientPort: 5353, vport: 53, rsPort: 53, fwmark: 0, timeout: 300, clientIp: CLIENT, vip: VIP, rsIp: RS }, 'UDP stays inactive');
  t.same(syncRecordFromFlow({ ...tcpEntry, state: 'FIN_WAIT' }, 'TUN', 120)?.flags, 0x182, 'FIN_WAIT is inactive');
  t.equal(syncRecordFromFlow({ ...tcpEntry, state: 'BOGUS' }, 'DR', 1), null);
  const tpl = syncRecordFromTemplate({ proto: 6, clientIp: 0xc6120000, vip: VIP, vport: 443, rsIp: RS, rsPort: 443 }, 'DR', 300);
  t.equal(tpl.flags, 0x1883);
  const [msg] = encodeSyncMessages([tcp!, tpl], { syncId: 1 });
  t.same(decodeSyncMessage(msg, { syncId: 1 }), { syncId: 1, records: [tcp, tpl], skipped: [] });
});
