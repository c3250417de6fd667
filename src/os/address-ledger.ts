// The addresses ulvs itself added to interfaces, for the static addresses (src/control) and the
// VRRP VIPs (src/vrrp) alike: only those are removed again, and they are written down in a state
// file before each change, so that a director killed with -9 can be recognised by its successor
// (src/control/recovery.ts). An address that was already there when ulvs wanted it is not ours:
// ulvs uses it but never removes it.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { run, runSync } from './run.js';

/** An interface address as ulvs names it: `198.18.0.100/32` on `eth0`. */
/** `brd`, `scope`, `peer`: keepalived's ip address options, given to `ip addr add` as they are. */
export interface InterfaceAddress { address: string; dev: string; label?: string; brd?: string; scope?: string; peer?: string }

/** An XDP program ulvs attached, by kernel id: without CAP_SYS_ADMIN a successor cannot read its name. */
export interface AttachedXdp { ifname: string; id: number }

/** What the state file holds: who wrote it, which addresses it had added, which XDP programs it attached. */
export interface AddressStateFile { version: 1; pid: number; instance: string; addresses: InterfaceAddress[]; xdp?: AttachedXdp[] }

/** `198.18.0.100` -> `198.18.0.100/32`, `2001:2::100` -> `2001:2::100/128` (ip and the kernel print addresses with their prefix). */
export function withPrefix(address: string): string {
  if (address.includes('/')) return address;
  return address.includes(':') ? `${address}/128` : `${address}/32`;
}

/** A point-to-point address is named with its peer (the kernel matches both, for del too). */
function addressWords(a: InterfaceAddress): string[] {
  return a.peer ? [withPrefix(a.address), 'peer', a.peer] : [withPrefix(a.address)];
}

export function addressKey(a: InterfaceAddress): string {
  return `${withPrefix(a.address)} ${a.dev}`;
}

// `ip addr add` of an address the interface already has: "File exists" (older kernels) or
// "Address already assigned" (IPv4 since 5.x).
const ALREADY_THERE = /File exists|already assigned/i;
// `ip addr del` of an address that is gone.
const ALREADY_GONE = /Cannot assign requested address|No such|ENOENT/i;

export type AddOutcome = 'added' | 'already-ours' | 'not-ours';

export class AddressLedger {
  private readonly ours = new Map<string, InterfaceAddress>();
  private xdp: AttachedXdp[] = [];
  private readonly notOurs = new Set<string>();
  private stateFile: string | null = null;
  private instance = 'default';

  /** From now on every change is written to `file` first (the director calls this at start-up). */
  useStateFile(file: string, instance: string): void {
    this.stateFile = file;
    this.instance = instance;
    this.save();
  }

  /** An address a dead ulvs of this instance added and this one keeps (removed on stop). */
  adopt(a: InterfaceAddress): void {
    this.ours.set(addressKey(a), { address: withPrefix(a.address), dev: a.dev });
    this.save();
  }

  /** An address somebody else put there: used, never removed. */
  markNotOurs(a: InterfaceAddress): void {
    this.notOurs.add(addressKey(a));
  }

  /** Every address ulvs added and holds now (static and VRRP), for `ulvs status --json`. */
  held(): InterfaceAddress[] {
    return [...this.ours.values()];
  }

  isOurs(a: InterfaceAddress): boolean {
    return this.ours.has(addressKey(a));
  }

  /** Adds the address unless it is there; remembers (in the state file first) that ulvs added it. */
  async add(a: InterfaceAddress): Promise<AddOutcome> {
    const key = addressKey(a);
    if (this.ours.has(key)) return 'already-ours';
    if (this.notOurs.has(key)) return 'not-ours';
    const args = ['addr', 'add', ...addressWords(a), 'dev', a.dev];
    if (a.brd) args.push('broadcast', a.brd);
    if (a.scope) args.push('scope', a.scope);
    if (a.label) args.push('label', a.label);
    // IPv6: usable at once, and no DAD probe on the wire (a VIP moves between directors).
    if (a.address.includes(':')) args.push('nodad');
    // Written before the change: a kill between the two leaves a record of an address that
    // may be missing (harmless), never an address without a record.
    this.ours.set(key, { address: withPrefix(a.address), dev: a.dev, ...(a.peer ? { peer: a.peer } : {}) });
    this.save();
    try {
      await run('ip', args);
      return 'added';
    } catch (err) {
      this.ours.delete(key);
      this.save();
      if (!ALREADY_THERE.test((err as Error).message)) throw err;
      this.notOurs.add(key);
      return 'not-ours';
    }
  }

  /** Removes the address if ulvs added it; returns whether it did. */
  async remove(a: InterfaceAddress): Promise<boolean> {
    const key = addressKey(a);
    const mine = this.ours.get(key);
    if (!mine) return false;
    try {
      await run('ip', ['addr', 'del', ...addressWords(mine), 'dev', mine.dev]);
    } catch (err) {
      if (!ALREADY_GONE.test((err as Error).message)) throw err;
    }
    this.ours.delete(key);
    this.save();
    return true;
  }

  /** Synchronous remove, for reload and exit paths. Never throws. */
  removeSync(a: InterfaceAddress): boolean {
    const key = addressKey(a);
    const mine = this.ours.get(key);
    if (!mine) return false;
    try { runSync('ip', ['addr', 'del', ...addressWords(mine), 'dev', mine.dev]); } catch { /* already gone */ }
    this.ours.delete(key);
    this.save();
    return true;
  }

  /** Removes every address ulvs added and the state file: nothing is left to recover. Never throws. */
  removeAllSync(): void {
    for (const a of [...this.ours.values()]) this.removeSync(a);
    if (this.stateFile) {
      try { rmSync(this.stateFile, { force: true }); } catch { /* /run is going away */ }
    }
    this.stateFile = null;
  }

  /** Writes down the XDP programs this director attached (the successor detaches those ids). */
  recordXdp(programs: AttachedXdp[]): void {
    this.xdp = programs;
    this.save();
  }

  private save(): void {
    if (!this.stateFile) return;
    const state: AddressStateFile = { version: 1, pid: process.pid, instance: this.instance, addresses: [...this.ours.values()], ...(this.xdp.length > 0 ? { xdp: this.xdp } : {}) };
    try {
      mkdirSync(dirname(this.stateFile), { recursive: true, mode: 0o755 });
      const tmp = `${this.stateFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(state) + '\n');
      renameSync(tmp, this.stateFile); // atomic: a kill leaves the old file or the new one
    } catch {
      // A read-only /run costs only the recovery after a crash; the director still runs.
    }
  }
}

/** One ledger per process: the director's static addresses and the VRRP speaker's VIPs. */
export const addressLedger = new AddressLedger();
