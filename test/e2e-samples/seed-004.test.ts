// Seed 004 (wrr DR, services in included files, http_get, sorry server): seed-004-wrr-dr.yaml
// (+ seed-004.d/) on lab-dir1 as VRRP MASTER; then `ulvs migrate` of the seed's keepalived.conf
// with its include (conf/web.conf), and of the http_get step (seed004-http.conf).
// The seed's sorry.yaml service needs a server on rs3:8080 (the lab's runs on :80 only): started
// here. The migrated seed files hold no VIP (the how-to's keepalived.conf part shown has no
// vrrp_instance): the test adds the VIP to lab-dir1 by hand as the how-to's admin would.
// seed004-http.conf checks /index.html, which the lab's server does not serve: rs1 runs a server
// that does.
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLab, destroyLab, labExec, stopServer } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import {
  CONFIGS, checkList, checkTraffic, checkVips, migrateFixture, start, startExtraLabServer, startIndexServer, stopAll,
  stopAndCheck, waitForVrrp, writeYaml, type ExpectedService,
} from './support.js';

const prefix = 'es004-';
const VIP = '198.18.0.100';
const WEB: ExpectedService = { line: `TCP  ${VIP}:80 wrr`, realServers: ['198.18.0.10:80 Route 1', '198.18.0.20:80 Route 1'] };
const SORRY_PAGE: ExpectedService = { line: `TCP  ${VIP}:8080 wrr`, realServers: ['198.18.0.30:8080 Route 1'] };

/** What an http_get fetches answers 200 from the director's namespace. */
async function checkPage(t: Test, ns: string, url: string): Promise<void> {
  const r = await labExec(ns, ['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}', url]);
  t.equal(r.stdout, '200', `the http_get page ${url} answers 200 from ${ns}`);
}

t.test('seed 004: wrr DR with included services', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  await startExtraLabServer(lab.nodes.rs3.name, 'rs3', 8080);

  await t.test('the hand-written sample', async (t) => {
    const d = await start(dir1, join(CONFIGS, 'seed-004-wrr-dr.yaml'), running);
    await waitForVrrp(t, dir1, { VI_1: 'MASTER' });
    for (const rs of ['10', '20']) await checkPage(t, dir1, `http://198.18.0.${rs}:80/test.html`);
    await checkVips(t, dir1, [VIP], true);
    await checkList(t, dir1, [WEB, SORRY_PAGE]);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 20, shares: { rs1: 10, rs2: 10 } });
    await checkTraffic(t, lab, { url: `http://${VIP}:8080/`, requests: 5, shares: { rs3: 5 } });
    await stopAndCheck(t, d, dir1, [VIP]);
    running.clear();
  });

  const byHand = async (t: Test, add: boolean): Promise<void> => {
    const r = await labExec(dir1, ['ip', 'addr', add ? 'add' : 'del', `${VIP}/32`, 'dev', 'eth0']);
    t.equal(r.code, 0, `${add ? 'added' : 'removed'} the VIP by hand`);
  };

  await t.test('ulvs migrate of keepalived.conf + conf/*.conf', async (t) => {
    await byHand(t, true);
    const d = await start(dir1, writeYaml(migrateFixture(t, 'seed004/keepalived.conf')), running);
    await checkList(t, dir1, [WEB]);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 20, shares: { rs1: 10, rs2: 10 } });
    t.equal(await d.stop(), 0, 'the director stops cleanly');
    running.clear();
    await byHand(t, false);
    await checkVips(t, dir1, [VIP], false);
  });

  await t.test('ulvs migrate of the http_get step', async (t) => {
    await stopServer(lab.nodes.rs1.name);
    await startIndexServer(lab.nodes.rs1.name, 'rs1');
    await byHand(t, true);
    const d = await start(dir1, writeYaml(migrateFixture(t, 'seed004-http.conf')), running);
    // The first http_get runs at a random point of delay_loop (6 s) and takes retries to fail:
    // rather than wait for it, check that what it fetches from lab-dir1 answers 200.
    await checkPage(t, dir1, 'http://198.18.0.10:80/index.html');
    await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 wrr`, realServers: ['198.18.0.10:80 Route 1'] }]);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 10, shares: { rs1: 10 } });
    t.equal(await d.stop(), 0, 'the director stops cleanly');
    running.clear();
    await byHand(t, false);
  });
});
