// What a director does at start-up with what an earlier ulvs left behind when it died without
// stopping (kill -9, a crash): pure, no I/O. src/control/recovery.ts gathers the facts (the
// interfaces' addresses, XDP programs, tc filters and TAP devices, and the dead process's
// state file) and carries out the plan.
//
// How ulvs knows what is its own (docs/ARCHITECTURE.md, "Recognising what a dead ulvs left"):
//   addresses: listed in the state file /run/ulvs/netns-<inode>-<instance>.json, which ulvs
//              writes before every address it adds (iproute2 6.1 cannot set IFA_PROTO);
//   XDP:       the program's name, `ulvs_xdp`;
//   tc:        ulvs's filter preferences (TC_PREFS) on the interface's ingress;
//   TAP:       `ulvst<ifindex>` of a configured interface.

/** An interface address with its prefix, as `ip -j addr` shows it: `198.18.0.100/32` on `eth0`. */
export interface Address { address: string; dev: string }

export interface LeftoverFacts {
  /** IPv4 addresses on the configured interfaces now. */
  present: Address[];
  /** What the dead ulvs of this instance in this network namespace had added (its state file). */
  recordedOurs: Address[];
  /** The pid that wrote the state file, for the message. */
  recordedPid: number | null;
  /** Configured: static_ipaddress (held all the time) and VRRP virtual_ipaddress (held as MASTER). */
  staticAddresses: Address[];
  vrrpAddresses: Address[];
  /** Per configured interface: the attached XDP program's name (null: none; `id N` when its
   * name cannot be read, which needs CAP_SYS_ADMIN) and kernel id. */
  xdp: { ifname: string; program: string | null; id?: number | null }[];
  /** The XDP program ids the dead ulvs recorded in its state file. */
  recordedXdpIds?: number[];
  /** Per configured interface: ulvs's tc filter preferences found on its ingress. */
  tcFilters: { ifname: string; prefs: number[] }[];
  /** ulvs TAP devices of the configured interfaces that still exist. */
  taps: string[];
  /** The name ulvs gives its XDP program. */
  ulvsProgram: string;
}

export type LeftoverAction =
  /** A static address the dead ulvs added: kept, and removed on this director's stop. */
  | { kind: 'adopt-address'; address: Address }
  /** Ours but not to be held now (a VRRP VIP before this director is MASTER, or no longer configured). */
  | { kind: 'remove-address'; address: Address }
  /** Configured here but not added by ulvs: used as it is, never removed. */
  | { kind: 'not-ours-address'; address: Address }
  /** `recordedId`: known only by the id in the state file (its name was unreadable). */
  | { kind: 'detach-xdp'; ifname: string; recordedId?: number }
  | { kind: 'remove-tc-filters'; ifname: string; prefs: number[] }
  | { kind: 'remove-tap'; name: string };

export interface LeftoverPlan {
  actions: LeftoverAction[];
  /** One line per finding, for the log. */
  messages: string[];
  /** Another program holds the XDP hook: the AF_XDP backend cannot attach (the worker says so). */
  foreignXdp: { ifname: string; program: string }[];
}

const key = (a: Address): string => `${a.address} ${a.dev}`;

export function planLeftovers(facts: LeftoverFacts): LeftoverPlan {
  const actions: LeftoverAction[] = [];
  const messages: string[] = [];
  const foreignXdp: { ifname: string; program: string }[] = [];
  const by = facts.recordedPid === null ? 'an earlier ulvs' : `ulvs pid ${facts.recordedPid}, which did not stop cleanly`;
  const present = new Set(facts.present.map(key));
  const ours = new Set(facts.recordedOurs.map(key));
  const statics = new Set(facts.staticAddresses.map(key));
  const vrrp = new Set(facts.vrrpAddresses.map(key));

  for (const a of facts.present) {
    const k = key(a);
    const configured = statics.has(k) || vrrp.has(k);
    if (ours.has(k)) {
      if (statics.has(k)) {
        actions.push({ kind: 'adopt-address', address: a });
        messages.push(`${a.address} on ${a.dev} was left by ${by}: adopted (removed when this director stops)`);
      } else {
        // A VRRP VIP is held only by the MASTER: another director may hold it now, and two
        // holders answer ARP for it. The speaker adds it back if this director becomes MASTER.
        actions.push({ kind: 'remove-address', address: a });
        messages.push(vrrp.has(k)
          ? `${a.address} on ${a.dev} (a VRRP VIP) was left by ${by}: removed until VRRP makes this director MASTER`
          : `${a.address} on ${a.dev} was left by ${by} and is no longer configured: removed`);
      }
    } else if (configured) {
      actions.push({ kind: 'not-ours-address', address: a });
      messages.push(`${a.address} on ${a.dev} was already there and ulvs did not add it (by hand?): used as it is, never removed by ulvs`);
    }
  }
  const gone = facts.recordedOurs.filter((a) => !present.has(key(a)));
  if (gone.length > 0) messages.push(`state of ${by} lists ${gone.map((a) => `${a.address} on ${a.dev}`).join(', ')}: already gone`);

  for (const x of facts.xdp) {
    if (x.program === null) continue;
    const recorded = x.id != null && (facts.recordedXdpIds ?? []).includes(x.id);
    if (x.program === facts.ulvsProgram || recorded) {
      actions.push(x.program === facts.ulvsProgram ? { kind: 'detach-xdp', ifname: x.ifname } : { kind: 'detach-xdp', ifname: x.ifname, recordedId: x.id! });
      messages.push(`XDP program ${x.program} on ${x.ifname} was left by an earlier ulvs: detached (this director attaches its own)`);
    } else {
      foreignXdp.push({ ifname: x.ifname, program: x.program });
      messages.push(`XDP program ${x.program} on ${x.ifname} is not ulvs's: left alone`);
    }
  }
  for (const f of facts.tcFilters) {
    if (f.prefs.length === 0) continue;
    actions.push({ kind: 'remove-tc-filters', ifname: f.ifname, prefs: f.prefs });
    messages.push(`tc filters (pref ${f.prefs.join(', ')}) on ${f.ifname} ingress were left by an earlier ulvs: removed`);
  }
  for (const name of facts.taps) {
    actions.push({ kind: 'remove-tap', name });
    messages.push(`TAP device ${name} was left by an earlier ulvs: removed`);
  }
  return { actions, messages, foreignXdp };
}

/** The state file's name: one per network namespace (its inode) and director instance. */
export function stateFileName(netnsInode: number, instance: string): string {
  return `netns-${netnsInode}-${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
}
