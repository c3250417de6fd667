// The ledger's bookkeeping and its state file. No address is really added: the device does not
// exist, so the one `ip addr del` that runs (removeAllSync) fails harmlessly.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { AddressLedger, addressKey, withPrefix, type AddressStateFile } from '../../src/os/address-ledger.js';

const DEV = 'rcr-nodev0';
function scratchDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'rcr-ledger-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const read = (file: string): AddressStateFile => JSON.parse(readFileSync(file, 'utf8')) as AddressStateFile;

t.test('addresses are named with their prefix', async (t) => {
  t.equal(withPrefix('198.18.0.100'), '198.18.0.100/32');
  t.equal(withPrefix('198.18.0.0/24'), '198.18.0.0/24');
  t.equal(addressKey({ address: '198.18.0.100', dev: 'eth0' }), addressKey({ address: '198.18.0.100/32', dev: 'eth0' }));
});

t.test('the state file records adopted addresses and goes on a clean stop', async (t) => {
  const file = join(scratchDir(t), 'sub', 'netns-1-default.json');
  const ledger = new AddressLedger();
  ledger.adopt({ address: '198.18.0.100', dev: DEV });
  t.notOk(existsSync(file), 'nothing is written before the director names its state file');
  ledger.useStateFile(file, 'default');
  t.same(read(file), { version: 1, pid: process.pid, instance: 'default', addresses: [{ address: '198.18.0.100/32', dev: DEV }] },
    'written (directory created) with what is ours');
  t.ok(ledger.isOurs({ address: '198.18.0.100/32', dev: DEV }));
  t.equal(await ledger.add({ address: '198.18.0.100/32', dev: DEV }), 'already-ours', 'an adopted address is not added again');

  ledger.markNotOurs({ address: '198.18.0.101/32', dev: DEV });
  t.equal(await ledger.add({ address: '198.18.0.101', dev: DEV }), 'not-ours', 'an address found there is used, not added');
  t.equal(await ledger.remove({ address: '198.18.0.101', dev: DEV }), false, 'and never removed');
  t.same(read(file).addresses, [{ address: '198.18.0.100/32', dev: DEV }], 'not-ours addresses are not recorded');

  ledger.removeAllSync();
  t.notOk(ledger.isOurs({ address: '198.18.0.100/32', dev: DEV }), 'released');
  t.notOk(existsSync(file), 'the state file is gone: nothing left to recover');
});

t.test('a failed add is not recorded', async (t) => {
  const file = join(scratchDir(t), 'netns-1-default.json');
  const ledger = new AddressLedger();
  ledger.useStateFile(file, 'default');
  await t.rejects(ledger.add({ address: '198.18.0.102/32', dev: DEV }), /Cannot find device|does not exist/);
  t.same(read(file).addresses, [], 'the intent written before the change is taken back');
  t.notOk(ledger.isOurs({ address: '198.18.0.102/32', dev: DEV }));
});
