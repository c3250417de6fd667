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

/** One JSON request line in, one JSON reply line out. */
export function serveControl(path: string, handle: ControlHandler): Promise<net.Server> {
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
      let request: ControlRequest;
      try { request = JSON.parse(line) as ControlRequest; } catch {
        conn.end(JSON.stringify({ ok: false, error: 'request is not JSON' }) + '\n');
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
        const reply = JSON.parse(buffered) as { ok: boolean; result?: unknown; error?: string };
        if (reply.ok) resolve(reply.result); else reject(new Error(reply.error));
      } catch { reject(new Error('the director sent a reply that is not JSON')); }
    });
  });
}

function printable(path: string): string {
  return path.startsWith('\0') ? `@${path.slice(1)}` : path;
}
