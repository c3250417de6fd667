// vrrp_script: each script runs every `interval` seconds (never two at once), is killed after
// `timeout`, and its exit status goes through rise/fall damping. A verdict change is reported
// to the speaker, which moves the priorities of the instances that track the script.
import { spawn } from 'node:child_process';
import { prepareScript } from '../os/script-user.js';

import type { VrrpScriptConfig } from './config.js';
import { RiseFall, type ScriptVerdict } from './tracking.js';

interface ScriptRunner {
  name: string;
  cfg: VrrpScriptConfig;
  damping: RiseFall;
  timer: NodeJS.Timeout | null;
  running: boolean;
  /** Why the script may not run (a user that vanished, enable_script_security), logged once. */
  refusedFor?: string;
}

export class TrackScripts {
  private readonly runners = new Map<string, ScriptRunner>();
  private stopped = false;

  constructor(
    private readonly onChanged: (name: string, up: boolean) => void,
    private readonly log?: { warn(obj: object, msg?: string): void },
  ) {}

  /** A script's weight and damped verdict, for tracking; undefined when there is none. */
  verdict(name: string): ScriptVerdict | undefined {
    const runner = this.runners.get(name);
    if (!runner) return undefined;
    const weight = runner.cfg.weight === undefined ? undefined : runner.cfg.reverse ? -runner.cfg.weight : runner.cfg.weight;
    return { weight, up: runner.damping.up };
  }

  /** Knows the script; it runs from startAll() on. */
  define(name: string, cfg: VrrpScriptConfig): void {
    this.runners.set(name, { name, cfg, timer: null, running: false, damping: new RiseFall(cfg.rise ?? 1, cfg.fall ?? 1, cfg.init_fail !== true) });
  }

  startAll(): void {
    for (const runner of this.runners.values()) this.schedule(runner, 0);
  }

  /** A script a reload added: it runs at once. */
  add(name: string, cfg: VrrpScriptConfig): void {
    this.define(name, cfg);
    this.schedule(this.runners.get(name)!, 0);
  }

  /** The verdict so far stays; only the damping thresholds and timings change. */
  change(name: string, cfg: VrrpScriptConfig): void {
    const runner = this.runners.get(name);
    if (!runner) return;
    runner.damping = new RiseFall(cfg.rise ?? 1, cfg.fall ?? 1, runner.damping.up);
    runner.cfg = cfg;
    if (!runner.running) { if (runner.timer) clearTimeout(runner.timer); this.schedule(runner, 0); }
  }

  remove(name: string): void {
    const runner = this.runners.get(name);
    if (runner?.timer) clearTimeout(runner.timer);
    this.runners.delete(name);
  }

  /** Forgets every script (a start that failed); none was scheduled yet. */
  clear(): void {
    this.runners.clear();
  }

  stop(): void {
    this.stopped = true;
    for (const runner of this.runners.values()) if (runner.timer) clearTimeout(runner.timer);
  }

  private schedule(runner: ScriptRunner, delayMs: number): void {
    runner.timer = setTimeout(() => this.run(runner), delayMs);
    runner.timer.unref();
  }

  private run(runner: ScriptRunner): void {
    const intervalMs = (runner.cfg.interval ?? 1) * 1000;
    if (this.stopped) return;
    if (runner.running) { this.schedule(runner, intervalMs); return; }
    runner.running = true;
    const prepared = prepareScript(['/bin/sh', '-c', runner.cfg.script], runner.cfg.run_as ?? {});
    if ('refused' in prepared) {
      if (runner.refusedFor !== prepared.refused) this.log?.warn({ script: runner.name, reason: prepared.refused }, 'vrrp_script refused: counts as failed');
      runner.refusedFor = prepared.refused;
      runner.running = false;
      if (runner.damping.record(false)) this.onChanged(runner.name, runner.damping.up);
      this.schedule(runner, intervalMs);
      return;
    }
    runner.refusedFor = undefined;
    const child = spawn(prepared.file, prepared.args, { stdio: 'ignore', uid: prepared.uid, gid: prepared.gid });
    const timeout = setTimeout(() => child.kill('SIGKILL'), (runner.cfg.timeout ?? runner.cfg.interval ?? 1) * 1000);
    const finish = (ok: boolean): void => {
      clearTimeout(timeout);
      runner.running = false;
      if (runner.damping.record(ok)) this.onChanged(runner.name, runner.damping.up);
      this.schedule(runner, intervalMs);
    };
    child.on('error', () => finish(false));
    child.on('exit', (code) => finish(code === 0));
  }
}
