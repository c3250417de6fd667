// The NA's Router flag follows the interface's IPv6 forwarding sysctl, as keepalived's does:
// read from a sysctl tree here (a temporary directory), on the wire with keepalived in
// test/vrrp/interop-ipv6-speaker.test.ts (forwarding on: R set, seen by tshark).
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildUnsolicitedNa, NA_FRAME_LENGTH } from '../../src/vrrp/na.js';
import { forwardsIpv6 } from '../../src/vrrp/vips.js';

const FLAGS_AT = NA_FRAME_LENGTH - 32 + 4; // the ICMPv6 flags byte (the NA is the frame's last 32 bytes)

t.test('forwardsIpv6 reads net.ipv6.conf.<dev>.forwarding', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-sysctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [dev, value] of [['eth0', '1\n'], ['eth1', '0\n']]) {
    mkdirSync(join(dir, dev));
    writeFileSync(join(dir, dev, 'forwarding'), value);
  }
  t.equal(forwardsIpv6('eth0', dir), true, 'forwarding 1');
  t.equal(forwardsIpv6('eth1', dir), false, 'forwarding 0');
  t.equal(forwardsIpv6('eth9', dir), false, 'no such device (no IPv6): false, no throw');
});

t.test('the Router flag, with Override always set', async (t) => {
  const mac = new Uint8Array([2, 0, 0, 0, 0, 2]);
  t.equal(buildUnsolicitedNa(mac, '2001:2::100', { router: true })[FLAGS_AT], 0xa0, 'R and O');
  t.equal(buildUnsolicitedNa(mac, '2001:2::100')[FLAGS_AT], 0x20, 'O only');
});
