/**
 * A small authoritative DNS server on loopback UDP, answering TXT, A, AAAA and MX questions
 * from a fixed zone (RFC 1035 wire format), for tests that run a real process pointed at
 * it with DNS_RESOLVER. Names it does not know get an empty NOERROR answer.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface DnsZone {
  txt?: Record<string, string[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  mx?: Record<string, string[]>;
}

export interface DnsServer {
  /** For DNS_RESOLVER: 127.0.0.1:port. */
  address: string;
  /** Every question, as "TXT name". */
  asked: string[];
  close(): Promise<void>;
}

const TYPES: Record<number, keyof DnsZone> = { 1: 'a', 16: 'txt', 28: 'aaaa', 15: 'mx' };
const NAMES: Record<keyof DnsZone, string> = { a: 'A', txt: 'TXT', aaaa: 'AAAA', mx: 'MX' };

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function rdata(type: keyof DnsZone, value: string): Buffer {
  switch (type) {
    case 'a':
      return Buffer.from(value.split('.').map(Number));
    case 'aaaa': {
      const [head, tail = ''] = value.split('::');
      const h = head ? head.split(':') : [];
      const t = tail ? tail.split(':') : [];
      const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
      const out = Buffer.alloc(16);
      groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
      return out;
    }
    case 'mx':
      return Buffer.concat([Buffer.from([0, 10]), encodeName(value)]);
    case 'txt': {
      // Character-strings of at most 255 octets each.
      const bytes = Buffer.from(value, 'utf8');
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length || i === 0; i += 255) {
        const chunk = bytes.subarray(i, i + 255);
        parts.push(Buffer.from([chunk.length]), chunk);
      }
      return Buffer.concat(parts);
    }
  }
}

/** The answer to one query packet, or undefined for one it cannot read. */
function answer(query: Buffer, zone: DnsZone, asked: string[]): Buffer | undefined {
  if (query.length < 17 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const len = query[at];
    if (len > 63) return undefined; // no compression in questions
    labels.push(query.subarray(at + 1, at + 1 + len).toString('ascii'));
    at += 1 + len;
  }
  const questionEnd = at + 5;
  if (questionEnd > query.length) return undefined;
  const qtype = query.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  const type = TYPES[qtype];
  asked.push(`${type ? NAMES[type] : qtype} ${name}`);
  const values = type ? (zone[type]?.[name] ?? []) : [];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100), 2); // QR, AA, RD copied
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const records = values.map((v) => {
    const data = rdata(type!, v);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the name in the question
    fixed.writeUInt16BE(qtype, 2);
    fixed.writeUInt16BE(1, 4); // IN
    fixed.writeUInt32BE(60, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

export async function startDnsServer(zone: DnsZone): Promise<DnsServer> {
  const asked: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const reply = answer(msg, zone, asked);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
