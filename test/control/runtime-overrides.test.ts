// Runtime overrides (ulvs ipvsadm changes) beside the config: applyEdit, mergeOverrides,
// normalize, the all-or-nothing plan, and refusals in ipvsadm's and check-config's words.
import t from 'tap';
import fc from 'fast-check';
import { loadConfigText, type UlvsConfig } from '../../src/config/index.js';
import { applyEdit, mergeOverrides, normalize, NO_OVERRIDES, RuntimeRefusal, type RuntimeEdit, type RuntimeOverrides } from '../../src/control/runtime-overrides.js';
import { planRuntime } from '../../src/control/ipvsadm-commands.js';

const CONFIG = `
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_algo: wrr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, weight: 1, tcp_check: { connect_timeout: 3 } }
      - { ip: 198.18.0.20, weight: 3 }
`;
const config = (text = CONFIG): UlvsConfig => loadConfigText(text).config;
const svc = { protocol: 'TCP' as const, vip: '198.18.0.100', port: 80 };
const server = (ip: string, weight = 1): RuntimeEdit => ({ op: 'edit-server', service: svc, server: { ip, port: 80 }, forward: 'DR', weight, uthreshold: 0, lthreshold: 0 });
const refusal = (f: () => unknown): { message: string; status: number } => {
  try { f(); } catch (e) { if (e instanceof RuntimeRefusal) return { message: e.message, status: e.status }; throw e; }
  throw new Error('accepted');
};

t.test('-e -w 0 drains one server; the override names only the weight and survives a config change elsewhere', async (t) => {
  const c = config();
  const ov = applyEdit(c, NO_OVERRIDES, server('198.18.0.10', 0));
  t.same(ov.services[0].servers, [{ ip: '198.18.0.10', port: 80, deleted: false, fields: { weight: 0 } }]);
  const eff = mergeOverrides(c, ov);
  t.same(eff.virtual_servers[0].real_servers.map((r) => [r.ip, r.weight]), [['198.18.0.10', 0], ['198.18.0.20', 3]]);
  t.ok(eff.virtual_servers[0].real_servers[0].check, 'the config\'s checker stays on an edited server');
  const pushed = config(CONFIG.replace('lb_algo: wrr', 'lb_algo: rr'));
  const after = mergeOverrides(pushed, normalize(pushed, ov));
  t.equal(after.virtual_servers[0].lb_algo, 'rr', 'the config change applies');
  t.equal(after.virtual_servers[0].real_servers[0].weight, 0, 'the drain stays');
});

t.test('-a adds a server without a checker, -d removes it; the config file is untouched', async (t) => {
  const c = config();
  const add: RuntimeEdit = { op: 'add-server', service: svc, server: { ip: '198.18.0.30', port: 80 }, forward: 'DR', weight: 2, uthreshold: 0, lthreshold: 0 };
  const ov = applyEdit(c, NO_OVERRIDES, add);
  const added = mergeOverrides(c, ov).virtual_servers[0].real_servers[2];
  t.match(added, { ip: '198.18.0.30', port: 80, weight: 2, check: null });
  const back = applyEdit(c, ov, { op: 'delete-server', service: svc, server: { ip: '198.18.0.30', port: 80 } });
  t.same(back, NO_OVERRIDES, 'adding then deleting leaves no override');
  t.equal(c.virtual_servers[0].real_servers.length, 2);
});

t.test('-C then the saved table again (-R) leaves no override at all, checkers included', async (t) => {
  const c = config();
  let ov = applyEdit(c, NO_OVERRIDES, { op: 'flush' });
  t.equal(mergeOverrides(c, ov).virtual_servers.length, 0);
  ov = applyEdit(c, ov, { op: 'add-service', service: svc, scheduler: 'wrr', persistent: 0, netmask: '255.255.255.255', ops: false, schedFlags: [] });
  t.equal(mergeOverrides(c, ov).virtual_servers[0].real_servers.length, 0, '-A makes an empty service, as IPVS');
  ov = applyEdit(c, ov, { ...server('198.18.0.10', 1), op: 'add-server' });
  ov = applyEdit(c, ov, { ...server('198.18.0.20', 3), op: 'add-server' });
  t.same(ov, NO_OVERRIDES);
});

t.test('refusals: ipvsadm\'s words for what IPVS refuses, check-config\'s for what the schema refuses', async (t) => {
  const c = config();
  t.same(refusal(() => applyEdit(c, NO_OVERRIDES, { op: 'delete-service', service: { ...svc, port: 81 } })), { message: 'No such service', status: 255 });
  t.same(refusal(() => applyEdit(c, NO_OVERRIDES, server('198.18.0.99'))), { message: 'No such destination', status: 255 });
  t.same(refusal(() => applyEdit(c, NO_OVERRIDES, { ...server('198.18.0.10'), service: { ...svc, port: 81 } })), { message: 'Service not defined', status: 255 });
  t.same(refusal(() => applyEdit(c, NO_OVERRIDES, { op: 'add-service', service: svc, scheduler: 'rr', persistent: 0, netmask: '255.255.255.255', ops: false, schedFlags: [] })),
    { message: 'Service already exists', status: 255 });
  t.same(refusal(() => applyEdit(c, NO_OVERRIDES, { ...server('198.18.0.10'), op: 'add-server' })),
    { message: 'real server 198.18.0.10:80 is listed twice in this service', status: 2 });
  t.match(refusal(() => applyEdit(c, NO_OVERRIDES, { ...server('198.18.0.10'), forward: 'NAT' })).message, /forwards by DR \(lb_kind\)/);
  const plan = planRuntime(c, NO_OVERRIDES, [{ line: 0, edit: { op: 'edit-service', service: svc, scheduler: 'bogus', persistent: 0, netmask: '255.255.255.255', ops: false, schedFlags: [] } }]);
  t.match(plan, { ok: false, status: 2 });
  const direct = (() => { try { loadConfigText(CONFIG.replace('lb_algo: wrr', 'lb_algo: bogus')); } catch (e) { return (e as { diagnostics: { message: string }[] }).diagnostics[0].message; } })();
  t.equal((plan as { error: string }).error, direct, 'the same wording as check-config');
});

t.test('a restore with a bad line changes nothing and names the line', async (t) => {
  const c = config();
  const plan = planRuntime(c, NO_OVERRIDES, [
    { line: 1, edit: server('198.18.0.10', 0) },
    { line: 2, edit: server('198.18.0.77', 0) },
  ]);
  t.same(plan, { ok: false, error: 'No such destination', status: 255, line: 2 });
});

t.test('property: random edit sequences keep the table consistent', async (t) => {
  const c = config();
  const ips = ['198.18.0.10', '198.18.0.20', '198.18.0.30', '198.18.0.40'];
  const edit = fc.oneof(
    fc.record({ ip: fc.constantFrom(...ips), w: fc.nat(10) }).map(({ ip, w }): RuntimeEdit => ({ ...server(ip, w), op: 'add-server' })),
    fc.record({ ip: fc.constantFrom(...ips), w: fc.nat(10) }).map(({ ip, w }): RuntimeEdit => server(ip, w)),
    fc.constantFrom(...ips).map((ip): RuntimeEdit => ({ op: 'delete-server', service: svc, server: { ip, port: 80 } })),
    fc.constant<RuntimeEdit>({ op: 'flush' }),
    fc.constant<RuntimeEdit>({ op: 'add-service', service: svc, scheduler: 'wrr', persistent: 0, netmask: '255.255.255.255', ops: false, schedFlags: [] }),
  );
  fc.assert(fc.property(fc.array(edit, { maxLength: 12 }), (edits) => {
    // Oracle: IPVS's own table as a Map, edited the way the kernel does.
    let table: Map<string, number> | null = new Map([['198.18.0.10', 1], ['198.18.0.20', 3]]);
    let ov: RuntimeOverrides = NO_OVERRIDES;
    for (const e of edits) {
      let refused = false;
      try { ov = applyEdit(c, ov, e); } catch (err) { if (!(err instanceof RuntimeRefusal)) throw err; refused = true; }
      if (e.op === 'flush') table = null;
      else if (e.op === 'add-service') { if (table) { if (!refused) return false; } else table = new Map(); }
      else if (!table) { if (!refused) return false; }
      else if (e.op === 'add-server') { if (table.has(e.server.ip) !== refused) return false; if (!refused) table.set(e.server.ip, e.weight); }
      else if (e.op === 'edit-server') { if (table.has(e.server.ip) === refused) return false; if (!refused) table.set(e.server.ip, e.weight); }
      else if (e.op === 'delete-server') { if (table.has(e.server.ip) === refused) return false; table.delete(e.server.ip); }
    }
    const eff = mergeOverrides(c, ov).virtual_servers;
    if (!table) return eff.length === 0;
    const got = new Map(eff[0].real_servers.map((r) => [r.ip, r.weight]));
    return eff.length === 1 && got.size === table.size && [...table].every(([ip, w]) => got.get(ip) === w)
      && JSON.stringify(normalize(c, ov)) === JSON.stringify(ov);
  }), { numRuns: 300 });
});
