// The control socket checks its peer through socket._handle.fd (internal to Node) and the
// addon's SO_PEERCRED: this test fails if a Node upgrade takes the field away.
import t from 'tap';
import net from 'node:net';
import { loadNative } from '../../src/io/native.js';
import { REFUSED, requestControl, serveControl, socketFd } from '../../src/control/socket.js';

const path = `\0mt-socket-peer-${process.pid}`;

t.test('the server side of a unix connection has an fd, and SO_PEERCRED names this process', async (t) => {
  const seen: { fd: number; cred?: { pid: number; uid: number; gid: number } }[] = [];
  const server = await serveControl(path, async () => 'fine', (conn, req) => {
    const fd = socketFd(conn);
    seen.push({ fd, cred: fd >= 0 ? loadNative().peerCredentials(fd) : undefined });
    return req.command === 'reload' ? 'permission denied: test' : null;
  });
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.equal(await requestControl(path, 'list'), 'fine');
  t.ok(seen[0].fd >= 0, `fd ${seen[0].fd}`);
  t.same(seen[0].cred, { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  await t.rejects(requestControl(path, 'reload'), { message: 'permission denied: test', code: REFUSED });
});

t.test('peerCredentials refuses what is not a socket', async (t) => {
  t.throws(() => loadNative().peerCredentials(-1), /SO_PEERCRED/);
  t.throws(() => (loadNative().peerCredentials as (x: unknown) => unknown)('x'), /peerCredentials\(fd\)/);
});

t.test('socketFd of a socket without a handle is -1', async (t) => {
  t.equal(socketFd(new net.Socket()), -1);
});
