// One long-lived HTTP/1.1 keep-alive client connection, shared by the lab's stream scripts
// (ecmp-streams.mjs, keepalive-streams.mjs): `GET /`, the whole answer (framed by
// Content-Length), a pause of everyMs, and again, until stop(). It is never reopened: a
// connection that fails stays failed, as a long-lived client's would.
import net from 'node:net';

/**
 * Opens the connection and returns { socket, stop }. onAnswer(body) runs once per complete
 * answer; onEnd(code) runs once, with the error code (or 'CLOSED' when the server closed it) or
 * null when stop() ended it. shouldAsk() may refuse the next request (then the stream ends).
 */
export function keepAliveStream({ host, port, everyMs, onAnswer, onEnd, shouldAsk = () => true }) {
  const socket = net.connect({ host, port });
  let buffer = '';
  let timer = null;
  let ended = false;
  const end = (code) => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    socket.destroy();
    onEnd(code);
  };
  const ask = () => {
    if (ended) return;
    if (!shouldAsk()) return end(null);
    socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
  };
  socket.setEncoding('latin1');
  socket.on('connect', ask);
  socket.on('data', (chunk) => {
    buffer += chunk;
    for (;;) {
      const headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(buffer.slice(0, headEnd))?.[1] ?? 0);
      if (buffer.length < headEnd + 4 + length) return;
      const body = buffer.slice(headEnd + 4, headEnd + 4 + length).trim();
      buffer = buffer.slice(headEnd + 4 + length);
      onAnswer(body);
      timer = setTimeout(ask, everyMs);
    }
  });
  socket.on('error', (err) => end(err.code ?? err.message));
  socket.on('close', () => end('CLOSED'));
  return { socket, stop: () => end(null) };
}
