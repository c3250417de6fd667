// Test support: an HTTP client that lives inside the lab's client namespace and holds TCP
// connections open on command, so a test decides exactly when each connection is opened
// (and so scheduled), used again, and closed — what the scheduler and connection-table tests need.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { labExec } from '../../src/lab/index.js';
import { ulvsIn } from '../e2e/director.js';

// Runs in the namespace. One JSON command per stdin line, one JSON answer per stdout line.
// Raw sockets rather than http.Agent: the test owns each connection's life.
const CLIENT_SCRIPT = String.raw`
import net from 'node:net';
import { createInterface } from 'node:readline';
const sockets = new Map();
const reply = (m) => process.stdout.write(JSON.stringify(m) + '\n');
function request(entry, path) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { cleanup(); reject(new Error('timeout')); }, 5000);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /content-length: *(\d+)/i.exec(buf.subarray(0, end).toString());
      const length = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + length) return;
      cleanup();
      resolve(buf.subarray(end + 4, end + 4 + length).toString().trim());
    };
    const onClose = () => { cleanup(); reject(new Error('closed')); };
    const cleanup = () => { clearTimeout(timer); entry.socket.off('data', onData); entry.socket.off('close', onClose); };
    entry.socket.on('data', onData);
    entry.socket.on('close', onClose);
    entry.socket.write('GET ' + path + ' HTTP/1.1\r\nHost: lab\r\nConnection: keep-alive\r\n\r\n');
  });
}
async function handle(c) {
  if (c.op === 'open') {
    const socket = net.connect({ host: c.host, port: c.port, localAddress: c.localAddress, localPort: c.localPort });
    await new Promise((res, rej) => {
      const timer = setTimeout(() => { socket.destroy(); rej(new Error('connect timeout')); }, 3000);
      socket.once('connect', () => { clearTimeout(timer); res(); });
      socket.once('error', (e) => { clearTimeout(timer); rej(e); });
    });
    socket.on('error', () => {});
    const entry = { socket };
    sockets.set(c.id, entry);
    return { localPort: socket.localPort, body: c.path ? await request(entry, c.path) : null };
  }
  const entry = sockets.get(c.id);
  if (!entry) throw new Error('no connection ' + c.id);
  if (c.op === 'get') return { body: await request(entry, c.path) };
  if (c.op === 'close' || c.op === 'reset') {
    sockets.delete(c.id);
    await new Promise((res) => {
      entry.socket.once('close', res);
      if (c.op === 'reset') entry.socket.resetAndDestroy(); else entry.socket.end();
    });
    return {};
  }
  throw new Error('unknown op ' + c.op);
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  handle(c).then((r) => reply({ seq: c.seq, ok: true, ...r }), (e) => reply({ seq: c.seq, ok: false, error: e.code ?? e.message }));
});
`;

export interface OpenOptions {
  host: string;
  port?: number;
  /** Source address (one of the client's; see addClientAddresses) and port. */
  localAddress?: string;
  localPort?: number;
  /** Request sent right after connecting; its body is returned. Default '/'. null: none. */
  path?: string | null;
}

interface Answer { seq: number; ok: boolean; error?: string; body?: string | null; localPort?: number }

export class LabClient {
  private seq = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as Answer;
      this.waiting.get(a.seq)?.(a);
      this.waiting.delete(a.seq);
    });
    child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    child.once('exit', () => {
      for (const done of this.waiting.values()) done({ seq: -1, ok: false, error: `client exited: ${this.stderr}` });
      this.waiting.clear();
    });
  }

  static start(namespace: string): LabClient {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '--input-type=module', '-e', CLIENT_SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new LabClient(child);
  }

  private send(command: Record<string, unknown>): Promise<Answer> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, (a) => (a.ok ? resolve(a) : reject(new Error(`${String(command.op)} failed: ${a.error}`))));
      this.child.stdin!.write(JSON.stringify({ ...command, seq }) + '\n');
    });
  }

  /** Opens a TCP connection (scheduled by the director) and sends one request on it. */
  async open(o: OpenOptions): Promise<{ id: number; localPort: number; body: string }> {
    const id = this.nextId++;
    const a = await this.send({ op: 'open', id, host: o.host, port: o.port ?? 80, localAddress: o.localAddress, localPort: o.localPort, path: o.path === undefined ? '/' : o.path });
    return { id, localPort: a.localPort!, body: a.body ?? '' };
  }

  /** Another request on an open connection. */
  async get(id: number, path = '/'): Promise<string> {
    return (await this.send({ op: 'get', id, path })).body ?? '';
  }

  /** FIN (close) or RST (reset); resolves once the socket is closed. */
  async close(id: number, how: 'close' | 'reset' = 'close'): Promise<void> {
    await this.send({ op: how, id });
  }

  /** One new connection per call: open, one request, close; the server that answered. */
  async once(o: OpenOptions): Promise<string> {
    const c = await this.open(o);
    await this.close(c.id);
    return c.body;
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Extra client addresses on the client's eth0 (198.18.0.x/24), to emulate several clients. */
export async function addClientAddresses(namespace: string, addresses: string[]): Promise<void> {
  for (const a of addresses) {
    const r = await labExec(namespace, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    if (r.code !== 0) throw new Error(`cannot add ${a} on ${namespace}: ${r.stderr}`);
  }
}

export interface ConnJson { protocol: string; expiresIn: number; state: string; source: string; virtual: string; destination: string }

/** `ulvs conns --json` in the director's namespace. */
export async function connsIn(namespace: string): Promise<ConnJson[]> {
  const r = await ulvsIn(namespace, ['conns', '--json']);
  if (r.code !== 0) throw new Error(`ulvs conns failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ConnJson[];
}

export interface RealServerJson { ip: string; port: number; weight: number; activeConns: number; inactiveConns: number }

/** `ulvs list -n --json`: the real servers of the first service. */
export async function realServersIn(namespace: string): Promise<RealServerJson[]> {
  const r = await ulvsIn(namespace, ['list', '-n', '--json']);
  if (r.code !== 0) throw new Error(`ulvs list failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { realServers: RealServerJson[] }[])[0].realServers;
}

export { sleep } from '../../src/lab/index.js';

/** The lab's server names by real-server address (DR lab). */
export const SERVER_OF: Record<string, string> = { '198.18.0.10': 'rs1', '198.18.0.20': 'rs2', '198.18.0.30': 'rs3' };
