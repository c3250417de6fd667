// createLinkedNamespaces: real namespaces joined by veths, with the lab's baseline.
import t from 'tap';
import { createLinkedNamespaces, destroyLinkedNamespaces, labExec, namespaceExists } from '../../src/lab/index.js';

t.test('two namespaces on one multi-queue wire, then destroyed by prefix', async (t) => {
  const prefix = `tlk${process.pid % 10000}-`;
  t.teardown(() => destroyLinkedNamespaces(prefix));
  const { namespaces, links } = await createLinkedNamespaces({
    prefix,
    namespaces: ['a', 'b'],
    links: [{ a: 'a', aIf: 'eth0', b: 'b', bIf: 'veth9', subnet: 77, queues: 2 }],
  });
  t.same(namespaces, [`${prefix}a`, `${prefix}b`]);
  const [link] = links;
  t.match(link, { a: `${prefix}a`, aIf: 'eth0', aIp: '198.18.77.1', b: `${prefix}b`, bIf: 'veth9', bIp: '198.18.77.2' });
  t.match(link.aMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  t.not(link.aMac, link.bMac);
  // A TCP connect to a closed port: b's RST proves the wire, and a's neighbour table b's MAC.
  const connect = await labExec(link.a, ['bash', '-c', `echo > /dev/tcp/${link.bIp}/9`], { timeoutMs: 10_000 });
  t.match(connect.stderr, /refused/, 'b answers on the wire');
  const neigh = await labExec(link.a, ['ip', 'neigh', 'show', link.bIp]);
  t.match(neigh.stdout, link.bMac, 'the returned MAC is the one on the wire');
  const features = await labExec(link.b, ['ethtool', '-k', 'veth9']);
  t.match(features.stdout, /tx-checksumming: off/, 'tx checksum offload off');
  const ipv6 = await labExec(link.a, ['sysctl', '-n', 'net.ipv6.conf.eth0.disable_ipv6']);
  t.equal(ipv6.stdout.trim(), '1', 'IPv6 off, as in the lab');
  const queues = await labExec(link.a, ['ls', '/sys/class/net/eth0/queues']);
  t.same(queues.stdout.split(/\s+/).filter((q) => q.startsWith('rx-')).sort(), ['rx-0', 'rx-1']);

  await createLinkedNamespaces({ prefix, namespaces: ['c'], links: [] });
  t.ok(namespaceExists(`${prefix}a`), 'growing keeps the namespaces already there');
  await destroyLinkedNamespaces(prefix);
  t.same(['a', 'b', 'c'].filter((n) => namespaceExists(prefix + n)), [], 'all gone');
});

t.test('a link naming an unknown namespace is refused before anything is built', async (t) => {
  const prefix = `tlu${process.pid % 10000}-`;
  await t.rejects(createLinkedNamespaces({ prefix, namespaces: ['a'], links: [{ a: 'a', aIf: 'e0', b: 'z', bIf: 'e0', subnet: 1 }] }),
    /unknown namespace z/);
  t.notOk(namespaceExists(`${prefix}a`));
});
