// AF_XDP specifics: attach modes, 'auto' fallback, foreign programs,
// detachXdp, worker threads, idle CPU, ICMP still answered by the kernel.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, AgentFailure, buildDist, ipToNumber, leftovers, sh, Topology } from './fixtures/netns.js';

interface OpenResult { backend: string; xdpMode: string | null; fallbackReason: string | null }
interface Message { hex: string; from: string }
const payload = (text: string): string => Buffer.from(text).toString('hex');

/** A foreign XDP program (not ulvs's) that passes everything. */
function foreignProgram(dir: string): string {
  const src = join(dir, 'other_xdp.c');
  writeFileSync(src, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int other_prog(struct xdp_md *c) { return XDP_PASS; }\nchar LICENSE[] SEC("license") = "GPL";\n');
  const obj = join(dir, 'other_xdp.o');
  const arch = sh(['gcc', '-dumpmachine']).trim();
  sh(['clang', '-O2', '-target', 'bpf', `-I/usr/include/${arch}`, '-c', src, '-o', obj]);
  return obj;
}

t.test('AF_XDP extras', async (t) => {
  buildDist();
  const topo = new Topology(`tio-e${process.pid % 10000}-`);
  const agents: Agent[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'tio-'));
  t.teardown(async () => {
    for (const a of agents) await a.stop(true);
    await topo.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });
  const built = await topo.build(['a', 'b'], [{ a: 'a', aIf: 'eth0', b: 'b', bIf: 'eth0', subnet: 30 }]);
  const [A, B] = built.namespaces;
  const [link] = built.links;
  const agent = (ns: string): Agent => {
    const a = new Agent(ns);
    agents.push(a);
    return a;
  };
  const dir = agent(A);
  const client = agent(B);
  const clientSocket = await client.request<number>('udpBind', { address: link.bIp, port: 7000 });
  const vip = { kind: 'service', ip: ipToNumber(link.aIp), port: 5000, protocol: 'udp' };

  await t.test('generic (SKB) mode on request, reported as such', async (t) => {
    const [port] = await dir.request<OpenResult[]>('open', { specs: [{ ifname: 'eth0', backend: 'afxdp', xdpMode: 'generic' }] });
    t.equal(port.xdpMode, 'generic');
    t.match(topo.linkDetails(A, 'eth0'), /xdpgeneric/);
    await dir.request('steer', { port: 0, rules: [vip] });
    await client.request('udpSend', { sock: clientSocket, host: link.aIp, port: 5000, payloadHex: payload('generic') });
    const n = await dir.request<number>('forward', { port: 0, timeoutMs: 5000, action: 'tx', rewrite: 'swap' });
    t.equal(n, 1);
    t.same((await client.request<Message[]>('udpRecv', { sock: clientSocket, timeoutMs: 5000 })).map((m) => m.hex), [payload('generic')]);
    await dir.request('close', { port: 0 });
    t.notMatch(topo.linkDetails(A, 'eth0'), /xdp/);
  });

  await t.test('the kernel still answers ICMP while services are steered', async (t) => {
    await dir.request('open', { specs: [{ ifname: 'eth0', backend: 'afxdp' }] });
    await dir.request('steer', { port: 1, rules: [vip] });
    t.equal(await client.request('ping', { host: link.aIp, timeoutMs: 5000 }), link.aIp);
  });

  await t.test('waitReadable sleeps (no spinning) and reports which port is ready', async (t) => {
    const idle = await dir.request<{ mask: number; elapsedMs: number; cpuMs: number }>('idle', { timeoutMs: 500 });
    t.equal(idle.mask, 0, 'nothing ready');
    t.ok(idle.elapsedMs >= 450, `slept ${idle.elapsedMs} ms`);
    t.ok(idle.cpuMs < 50, `used ${idle.cpuMs} ms of CPU while idle`);
    await client.request('udpSend', { sock: clientSocket, host: link.aIp, port: 5000, payloadHex: payload('wake') });
    const woke = await dir.request<{ mask: number; elapsedMs: number }>('idle', { timeoutMs: 5000 });
    t.equal(woke.mask, 0b10, 'the open port (index 1; index 0 is closed) is ready');
    t.ok(woke.elapsedMs < 2000);
    await dir.request('recv', { port: 1, timeoutMs: 100 });
    await dir.request('close', { port: 1 });
  });

  await t.test('a port opens and receives inside a worker thread', async (t) => {
    const ready = await dir.request<{ ready?: boolean; error?: string }>('workerStart', {
      spec: { ifname: 'eth0', backend: 'afxdp' }, rules: [vip], timeoutMs: 5000,
    });
    t.same(ready, { ready: true });
    await client.request('udpSend', { sock: clientSocket, host: link.aIp, port: 5000, payloadHex: payload('in-a-worker') });
    const result = await dir.request<{ payloads: string[] }>('workerNext', { worker: 0 });
    t.same(result.payloads, ['in-a-worker']);
    t.notMatch(topo.linkDetails(A, 'eth0'), /xdp/, 'closed in the worker: detached');
  });

  await t.test('detachXdp removes a program left by a dead process', async (t) => {
    const crashed = agent(A);
    await crashed.request('open', { specs: [{ ifname: 'eth0', backend: 'afxdp' }] });
    await crashed.stop(true);
    t.match(topo.linkDetails(A, 'eth0'), /xdp/);
    t.equal(await dir.request('detach', { ifname: 'eth0' }), true);
    t.notMatch(topo.linkDetails(A, 'eth0'), /xdp/);
    t.equal(await dir.request('detach', { ifname: 'eth0' }), false, 'nothing left to detach');
  });

  await t.test('cleanupInterface removes what a killed ulvs left (tap: filters that blackhole services)', async (t) => {
    const steeredSocket = await dir.request<number>('udpBind', { address: link.aIp, port: 5000 });
    for (const backend of ['tap', 'afxdp']) {
      const crashed = agent(A);
      await crashed.request('open', { specs: [{ ifname: 'eth0', backend }] });
      await crashed.request('steer', { port: 0, rules: [vip] });
      await crashed.stop(true);
      t.not(leftovers(topo, A, 'eth0').length, 0, `${backend}: leftovers after SIGKILL`);
      await dir.request('cleanup', { ifname: 'eth0' });
      t.same(leftovers(topo, A, 'eth0'), [], `${backend}: nothing left`);
      await client.request('udpSend', { sock: clientSocket, host: link.aIp, port: 5000, payloadHex: payload(`kernel-${backend}`) });
      t.same((await dir.request<Message[]>('udpRecv', { sock: steeredSocket, timeoutMs: 5000 })).map((m) => m.hex), [payload(`kernel-${backend}`)]);
    }
  });

  await t.test('process.exit() without close() leaves nothing behind', async (t) => {
    for (const backend of ['tap', 'afxdp']) {
      const exiting = agent(A);
      await exiting.request('open', { specs: [{ ifname: 'eth0', backend }] });
      await exiting.request('steer', { port: 0, rules: [vip] });
      exiting.request('exit', { code: 0 }).catch(() => { /* no reply: it exits */ });
      await exiting.stop(false);
      t.same(leftovers(topo, A, 'eth0'), [], backend);
    }
  });

  await t.test("another program's XDP: afxdp is EBUSY, auto falls back to tap", async (t) => {
    sh(['ip', '-n', A, 'link', 'set', 'dev', 'eth0', 'xdpgeneric', 'obj', foreignProgram(tmp), 'sec', 'xdp']);
    t.teardown(() => { try { sh(['ip', '-n', A, 'link', 'set', 'dev', 'eth0', 'xdpgeneric', 'off']); } catch { /* namespace gone */ } });
    const err = await dir.request('open', { specs: [{ ifname: 'eth0', backend: 'afxdp' }] }).catch((e: unknown) => e);
    t.ok(err instanceof AgentFailure);
    t.equal((err as AgentFailure).detail.code, 'EBUSY');
    t.match((err as AgentFailure).detail.message, /other_prog/);
    t.equal(await dir.request('detach', { ifname: 'eth0' }), false, 'detachXdp leaves foreign programs alone');
    t.match(topo.linkDetails(A, 'eth0'), /other_prog|xdpgeneric/);
    const [port] = await dir.request<OpenResult[]>('open', { specs: [{ ifname: 'eth0', backend: 'auto' }] });
    t.equal(port.backend, 'tap');
    t.match(port.fallbackReason, /another XDP program is attached to eth0/);
    await dir.request('steer', { port: 2, rules: [vip] });
    await client.request('udpSend', { sock: clientSocket, host: link.aIp, port: 5000, payloadHex: payload('via-tap') });
    t.equal(await dir.request<number>('forward', { port: 2, timeoutMs: 5000, action: 'tx', rewrite: 'swap' }), 1);
    t.same((await client.request<Message[]>('udpRecv', { sock: clientSocket, timeoutMs: 5000 })).map((m) => m.hex), [payload('via-tap')]);
    await dir.request('close', { port: 2 });
  });

  await t.test('one socket per queue share the interface program until the last closes', async (t) => {
    const grown = await topo.build(['m', 'n'], [{ a: 'm', aIf: 'eth0', b: 'n', bIf: 'eth0', subnet: 40, queues: 2 }]);
    const [M, N] = grown.namespaces;
    const [multi] = grown.links;
    const m = agent(M);
    const n = agent(N);
    const opened = await m.request<Array<{ xdpMode: string }>>('open', {
      specs: [{ ifname: 'eth0', backend: 'afxdp', queue: 0 }, { ifname: 'eth0', backend: 'afxdp', queue: 1 }],
    });
    t.equal(opened.length, 2);
    await m.request('steer', { port: 0, rules: [{ ...vip, ip: ipToNumber(multi.aIp) }] });
    const sock = await n.request<number>('udpBind', { address: multi.bIp, port: 7000 });
    for (let i = 0; i < 8; i++) await n.request('udpSend', { sock, host: multi.aIp, port: 5000, payloadHex: payload(`q${i}`) });
    const idle = await m.request<{ mask: number }>('idle', { timeoutMs: 2000 });
    t.not(idle.mask, 0, 'a queue socket got the steered packets');
    const got0 = await m.request<unknown[]>('recv', { port: 0, timeoutMs: 100 });
    const got1 = await m.request<unknown[]>('recv', { port: 1, timeoutMs: 100 });
    t.ok(got0.length + got1.length >= 1, `queue 0: ${got0.length}, queue 1: ${got1.length}`);
    await m.request('close', { port: 0 });
    t.match(topo.linkDetails(M, 'eth0'), /xdp/, 'still attached for queue 1');
    await m.request('close', { port: 1 });
    t.notMatch(topo.linkDetails(M, 'eth0'), /xdp/, 'detached with the last socket');
  });

  await t.test("'auto' picks AF_XDP when it attaches", async (t) => {
    const [port] = await dir.request<OpenResult[]>('open', { specs: [{ ifname: 'eth0', backend: 'auto' }] });
    t.equal(port.backend, 'afxdp');
    t.equal(port.fallbackReason, null);
    await dir.request('close', { port: 3 });
  });
});
