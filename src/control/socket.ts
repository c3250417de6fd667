import net from 'node:net';

/**
 * The director's control socket. Abstract unix sockets belong to a network namespace, as IPVS
 * tables do, so `ulvs list -n` inside `ip netns exec lab-dir1` reaches lab-dir1's director.
 */
export function controlSocketPath(instance = 'default', explicit?: string): string {
  return explicit ?? `\0ulvs/${instance}`;
}

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;
export interface ControlRequest { command: string; args?: Record<string, unknown> }
/** Decides on the connection's peer before the handler runs: null = go on, else the refusal. */
export type ControlGuard = (conn: net.Socket, request: ControlRequest) => string | null;

/** The code of a refusal in the reply; the CLI exits 4 on it. */
export const REFUSED = 'EPERM';

/**
 * The file descriptor of a connected net.Socket. `_handle.fd` is libuv's Pipe handle field,
 * internal to Node (no public API gives it; test/control/socket-peer.test.ts checks it still
 * exists): -1 or absent means it is gone, and the guard then refuses everything.
 */
export function socketFd(conn: net.Socket): number {
  const fd = (conn as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/**
 * One request line as the socket reads it: a JSON object with a string `command` (and, if
 * any, an `args` object), or why not. Pure (fuzzed by fuzz/targets/control.ts).
 */
export function parseControlLine(line: string): { request: ControlRequest } | { error: string } {
  let value: unknown;
  try { value = JSON.parse(line); } catch { return { error: 'request is not JSON' }; }
  const request = value as ControlRequest | null;
  if (typeof request !== 'object' || request === null || typeof request.command !== 'string') return { error: 'request has no command' };
  if (request.args !== undefined && (typeof request.args !== 'object' || request.args === null || Array.isArray(request.args))) {
    return { error: 'request args must be an object' };
  }
  return { request };
}

/** One JSON request line in, one JSON reply line out. */
export function serveControl(path: string, handle: ControlHandler, guard?: ControlGuard): Promise<net.Server> {
  const server = net.createServer((conn) => {
    let buffered = '';
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) {
        if (buffered.length > 1 << 20) conn.destroy();
        return;
      }
      const line = buffered.slice(0, nl);
      buffered = '';
      const parsed = parseControlLine(line);
      if ('error' in parsed) {
        conn.end(JSON.stringify({ ok: false, error: parsed.error }) + '\n');
        return;
      }
      const request = parsed.request;
      let refusal: string | null;
      try { refusal = guard ? guard(conn, request) : null; } catch (err) {
        refusal = `permission denied: the peer's credentials cannot be read (${(err as Error).message})`;
      }
      if (refusal !== null) {
        conn.end(JSON.stringify({ ok: false, error: refusal, code: REFUSED }) + '\n');
        return;
      }
      handle(request).then(
        (result) => conn.end(JSON.stringify({ ok: true, result }) + '\n'),
        (err: Error) => conn.end(JSON.stringify({ ok: false, error: err.message }) + '\n'),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new Error(`another ulvs director already runs here (control socket ${printable(path)} is taken)`)
        : err);
    });
    server.listen(path, () => resolve(server));
  });
}

export function requestControl(path: string, command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(path);
    let buffered = '';
    const timer = setTimeout(() => { conn.destroy(); reject(new Error('the director did not answer in time')); }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(JSON.stringify({ command, args }) + '\n'));
    conn.on('data', (chunk: string) => { buffered += chunk; });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'
        ? new Error(`no ulvs director is running in this network namespace (control socket ${printable(path)})`)
        : err);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        const reply = JSON.parse(buffered) as { ok: boolean; result?: unknown; error?: string; code?: string };
        if (reply.ok) resolve(reply.result);
        else reject(Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {}));
      } catch { reject(new Error('the director sent a reply that is not JSON')); }
    });
  });
}

function printable(path: string): string {
  return path.startsWith('\0') ? `@${path.slice(1)}` : path;
}
