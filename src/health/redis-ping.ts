/**
 * Whether Redis answers, without a client library: RESP AUTH (when the URL has a password)
 * and PING over one short-lived TCP connection, bounded by a timeout.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

const bulk = (...args: string[]): string =>
  `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');

export function pingRedis(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || 6379);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const commands: string[] = [];
  if (u.password) {
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    commands.push(user ? bulk('AUTH', user, pass) : bulk('AUTH', pass));
  }
  commands.push(bulk('PING'));
  return new Promise((resolve) => {
    const socket =
      u.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: host })
        : connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () =>
      socket.write(commands.join('')),
    );
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.startsWith('-')) done(false);
      else if (reply.includes('+PONG\r\n')) done(true);
    });
  });
}
