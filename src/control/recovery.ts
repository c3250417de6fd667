// The shell around src/control/leftovers.ts: at start-up, finds what a ulvs that died without
// stopping left on this director's interfaces, carries out the plan, says what it found (one
// line each) and from then on keeps the state file that lets the next director do the same.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type pino from 'pino';
import type { UlvsConfig } from '../config/index.js';
import { detachXdp } from '../io/open.js';
import { TC_ALL_PREFS } from '../io/tc.js';
import { addressLedger, withPrefix, type AddressLedger, type AddressStateFile } from '../os/address-ledger.js';
import { run } from '../os/run.js';
import { planLeftovers, stateFileName, type Address, type LeftoverFacts, type LeftoverPlan } from './leftovers.js';

/** tmpfs: cleared at boot, when the addresses it describes are gone too. */
/** Where leftovers are recorded; ULVS_STATE_DIR for a director that is not root (the unit's RuntimeDirectory is /run/ulvs). */
export const STATE_DIR = process.env.ULVS_STATE_DIR ?? '/run/ulvs';
/** The name ulvs's XDP program has in the kernel (native/bpf/ulvs_xdp.c, xdp_attach.cc). */
export const ULVS_XDP_PROGRAM = 'ulvs_xdp';
/** Native mode attaches ulvs_xdp_vlan (native/bpf/ulvs_xdp.c): ulvs's too, reported as ULVS_XDP_PROGRAM. */
const ULVS_XDP_PROGRAMS = new Set([ULVS_XDP_PROGRAM, 'ulvs_xdp_vlan']);

export interface RecoveryOptions {
  config: UlvsConfig;
  instance: string;
  log: pino.Logger;
  stateDir?: string;
  ledger?: AddressLedger;
}

/** Finds and clears what a dead ulvs left; the ledger then writes this director's state file. */
export async function recoverLeftovers(o: RecoveryOptions): Promise<LeftoverPlan> {
  const ledger = o.ledger ?? addressLedger;
  const file = join(o.stateDir ?? STATE_DIR, stateFileName(statSync('/proc/self/ns/net').ino, o.instance));
  const facts = await gatherFacts(o.config, readState(file, o.log));
  const plan = planLeftovers(facts);
  for (const line of plan.messages) o.log.warn(line);
  // Concurrently, each a process spawn or two: this is on the way to forwarding again.
  await Promise.all(plan.actions.map(async (action) => {
    switch (action.kind) {
      case 'adopt-address': ledger.adopt(action.address); break;
      case 'not-ours-address': ledger.markNotOurs(action.address); break;
      case 'remove-address': await bestEffort('ip', ['addr', 'del', action.address.address, 'dev', action.address.dev]); break;
      case 'detach-xdp':
        if (action.recordedId !== undefined) await detachRecordedXdp(action.ifname, action.recordedId, o.log);
        else try { detachXdp(action.ifname); } catch (err) { o.log.warn(`cannot detach XDP from ${action.ifname}: ${(err as Error).message}`); }
        break;
      case 'remove-tc-filters': await removeTcFilters(action.ifname, action.prefs); break;
      case 'remove-tap': await bestEffort('ip', ['link', 'del', action.name]); break;
    }
  }));
  ledger.useStateFile(file, o.instance);
  return plan;
}

/**
 * The addon's detach checks the program's name, which needs CAP_SYS_ADMIN; a program known by
 * its recorded id is detached with `ip` instead (CAP_NET_ADMIN), after checking the id again.
 */
async function detachRecordedXdp(ifname: string, id: number, log: pino.Logger): Promise<void> {
  for (const mode of ['xdp', 'xdpgeneric']) {
    if ((await xdpProgramOn(ifname)).id !== id) return;
    await bestEffort('ip', ['link', 'set', 'dev', ifname, mode, 'off']);
  }
  if ((await xdpProgramOn(ifname)).id === id) log.warn(`cannot detach XDP program id ${id} from ${ifname}`);
}

/** Runs a cleanup command whose failure means there was nothing to clean. */
async function bestEffort(file: string, args: string[]): Promise<void> {
  try { await run(file, args); } catch { /* already gone */ }
}

/** Our filters, then the ingress qdisc if nobody else's filters are on it (src/io/tc.ts's rule). */
async function removeTcFilters(ifname: string, prefs: number[]): Promise<void> {
  await Promise.all(prefs.map((pref) => bestEffort('tc', ['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(pref)])));
  const left = await run('tc', ['filter', 'show', 'dev', ifname, 'parent', 'ffff:']).catch(() => 'unknown');
  if (left.trim() === '') await bestEffort('tc', ['qdisc', 'del', 'dev', ifname, 'handle', 'ffff:', 'ingress']);
}

function readState(file: string, log: pino.Logger): AddressStateFile | null {
  if (!existsSync(file)) return null;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as AddressStateFile;
    if (state.version === 1 && Array.isArray(state.addresses)) return state;
  } catch { /* unreadable: treated as absent */ }
  log.warn(`${file} is not a ulvs state file: ignored (addresses found are treated as not ulvs's)`);
  return null;
}

/** The interfaces this config touches: the dataplane's and every address's. */
function interfacesOf(config: UlvsConfig): string[] {
  const names = [config.dataplane.interface, config.dataplane.inside,
    ...config.static_ipaddress.map((a) => a.dev),
    ...config.vrrp_instances.flatMap((vi) => [vi.interface, ...[...vi.virtual_ipaddress, ...vi.virtual_ipaddress_excluded].map((a) => a.dev)])];
  return [...new Set(names.filter((n): n is string => !!n))].filter((n) => existsSync(`/sys/class/net/${n}`));
}

async function gatherFacts(config: UlvsConfig, state: AddressStateFile | null): Promise<LeftoverFacts> {
  const interfaces = interfacesOf(config);
  const dataplane = [config.dataplane.interface, config.dataplane.inside].filter((n): n is string => !!n && interfaces.includes(n));
  // Concurrently: this runs on every start, and each command is a process spawn.
  const [present, xdp, tcFilters] = await Promise.all([
    Promise.all(interfaces.map(addressesOn)).then((lists) => lists.flat()),
    Promise.all(dataplane.map(async (ifname) => ({ ifname, ...await xdpProgramOn(ifname) }))),
    Promise.all(dataplane.map(async (ifname) => ({ ifname, prefs: await ulvsTcPrefsOn(ifname) }))),
  ]);
  const taps = dataplane.map((n) => `ulvst${readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8').trim()}`)
    .filter((tap) => existsSync(`/sys/class/net/${tap}`));
  return {
    present,
    recordedOurs: (state?.addresses ?? []).map((a) => ({ address: withPrefix(a.address), dev: a.dev })),
    recordedPid: state?.pid ?? null,
    recordedXdpIds: (state?.xdp ?? []).map((x) => x.id),
    staticAddresses: config.static_ipaddress.map((a) => ({ address: withPrefix(a.address), dev: a.dev })),
    vrrpAddresses: config.vrrp_instances.flatMap((vi) => [...vi.virtual_ipaddress, ...vi.virtual_ipaddress_excluded].map((a) => ({ address: withPrefix(a.address), dev: a.dev ?? vi.interface }))),
    xdp,
    tcFilters,
    taps,
    ulvsProgram: ULVS_XDP_PROGRAM,
  };
}

async function addressesOn(dev: string): Promise<Address[]> {
  // Both families: ulvs holds IPv6 static addresses too.
  const info = JSON.parse(await run('ip', ['-j', 'addr', 'show', 'dev', dev])) as
    { addr_info?: { local: string; prefixlen: number }[] }[];
  return (info[0]?.addr_info ?? []).map((a) => ({ address: `${a.local}/${a.prefixlen}`, dev }));
}

interface XdpProgInfo { prog?: { name?: string; id?: number } }
interface LinkJson { xdp?: XdpProgInfo & { attached?: XdpProgInfo[] } }

/** The attached XDP program's name and id from `ip -j link` (one program, or the `attached` list). */
async function xdpProgramOn(ifname: string): Promise<{ program: string | null; id: number | null }> {
  const [link] = JSON.parse(await run('ip', ['-j', '-d', 'link', 'show', 'dev', ifname])) as LinkJson[];
  const progs = [link?.xdp?.prog, ...(link?.xdp?.attached ?? []).map((a) => a.prog)].filter((p) => p !== undefined);
  if (progs.length === 0) return { program: null, id: null };
  const named = progs.find((p) => !ULVS_XDP_PROGRAMS.has(p!.name ?? ''));
  const id = (named ?? progs[0])!.id ?? null;
  return { program: named ? (named.name ?? `id ${named.id}`) : ULVS_XDP_PROGRAM, id };
}

/** The ids of the XDP programs now attached to `ifnames` (for this director's state file). */
export async function attachedXdpIds(ifnames: string[]): Promise<{ ifname: string; id: number }[]> {
  const found = await Promise.all(ifnames.map(async (ifname) => ({ ifname, id: (await xdpProgramOn(ifname).catch(() => ({ id: null }))).id })));
  return found.filter((x): x is { ifname: string; id: number } => x.id !== null);
}

async function ulvsTcPrefsOn(ifname: string): Promise<number[]> {
  let text = '';
  try { text = await run('tc', ['filter', 'show', 'dev', ifname, 'parent', 'ffff:']); } catch { return []; } // no ingress qdisc
  const prefs = new Set([...text.matchAll(/\bpref (\d+)\b/g)].map((m) => Number(m[1])));
  return TC_ALL_PREFS.filter((p) => prefs.has(p));
}
