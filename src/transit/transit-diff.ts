/**
 * What changed between the message the relay handed to the upstream and the copy that
 * arrived in the seed mailbox: outer header fields added, removed or changed, and the signed
 * part byte for byte, with each MIME leaf part compared and the change explained in the terms
 * of what providers do (re-wrapped lines, appended footers, re-encoded content).
 */
import { createHash } from 'node:crypto';
import {
  contentTypeOf,
  fieldValue,
  parseEntity,
  splitMultipart,
  toCrlf,
  type HeaderField,
} from '../smime/mime';
import { extract } from '../smime/smime-message';
import { readSignedData } from '../smime/cms-reader';

/** Fields every hop may add or rewrite; their changes are listed but are not a problem. */
const TRACE = new Set([
  'received',
  'return-path',
  'delivered-to',
  'x-original-to',
  'authentication-results',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
  'received-spf',
  'x-received',
]);

export interface HeaderChanges {
  added: string[];
  removed: string[];
  changed: string[];
  /** Of the above, the ones outside trace fields (Received, Return-Path, …). */
  unexpected: string[];
}

export interface PartChange {
  /** 1-based MIME part number, e.g. "1.2". */
  part: string;
  contentType: string;
  change: 'unchanged' | 'changed' | 'added' | 'removed';
}

export interface SignedPartDiff {
  identical: boolean;
  sentBytes: number;
  receivedBytes: number;
  /** The first line that differs (1-based) with both versions, cut to 120 characters. */
  firstDifference?: { line: number; sent: string; received: string };
  /** What kind of change it looks like, in a sentence; absent when identical. */
  explanation?: string;
  parts: PartChange[];
}

export interface TransitDiff {
  headers: HeaderChanges;
  signedPart: SignedPartDiff | { unreadable: string };
}

function fields(raw: Buffer): HeaderField[] {
  return parseEntity(toCrlf(raw.toString('latin1')), 'message header').headers;
}

function byName(list: HeaderField[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of list) {
    const v = fieldValue(f).replace(/\s+/g, ' ');
    m.set(f.name, [...(m.get(f.name) ?? []), v]);
  }
  return m;
}

export function headerChanges(sent: Buffer, received: Buffer): HeaderChanges {
  const a = byName(fields(sent));
  const b = byName(fields(received));
  const added = [...b.keys()].filter((n) => !a.has(n));
  const removed = [...a.keys()].filter((n) => !b.has(n));
  const changed = [...a.keys()].filter(
    (n) => b.has(n) && JSON.stringify(a.get(n)) !== JSON.stringify(b.get(n)),
  );
  const unexpected = [...added, ...removed, ...changed].filter((n) => !TRACE.has(n));
  return { added, removed, changed, unexpected };
}

/** The bytes the signature covers: the first part of multipart/signed, or the eContent. */
function signedBytes(raw: Buffer): Buffer {
  const x = extract(raw);
  if (x.content) return x.content;
  const content = readSignedData(x.der).eContent;
  if (!content) throw new Error('the signature carries no content');
  return content;
}

interface Leaf {
  part: string;
  contentType: string;
  digest: string;
}

/** Leaf parts of a MIME entity with a digest of their bytes as transferred. */
function leaves(entityText: string, prefix = ''): Leaf[] {
  const e = parseEntity(entityText, 'signed part');
  const ct = contentTypeOf(e.headers);
  const type = ct ? `${ct.type}/${ct.subtype}` : 'text/plain';
  const boundary = ct?.params.get('boundary');
  if (ct?.type === 'multipart' && boundary) {
    const body = splitMultipart(e.body, boundary);
    if (body) {
      return body.parts.flatMap((p, i) => leaves(p, prefix ? `${prefix}.${i + 1}` : `${i + 1}`));
    }
  }
  const digest = createHash('sha256').update(e.body, 'latin1').digest('hex');
  return [{ part: prefix || '1', contentType: type, digest }];
}

function compareParts(sent: string, received: string): PartChange[] {
  let a: Leaf[];
  let b: Leaf[];
  try {
    a = leaves(sent);
    b = leaves(received);
  } catch {
    return [];
  }
  const out: PartChange[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x && y) {
      out.push({
        part: x.part,
        contentType: x.contentType,
        change: x.digest === y.digest && x.contentType === y.contentType ? 'unchanged' : 'changed',
      });
    } else if (x) out.push({ part: x.part, contentType: x.contentType, change: 'removed' });
    else if (y) out.push({ part: y.part, contentType: y.contentType, change: 'added' });
  }
  return out;
}

const cut = (s: string): string => (s.length > 120 ? `${s.slice(0, 117)}...` : s);

/** Quoted-printable soft breaks and all line breaks and blanks removed: the text as a stream. */
const unwrapped = (s: string): string => s.replace(/=\r\n/g, '').replace(/[\r\n \t]+/g, '');

function explain(sent: string, received: string): string {
  if (received.length > sent.length && received.startsWith(sent.replace(/\r\n$/, ''))) {
    return 'content was appended after the signed part (a footer or tracking added in transit)';
  }
  const sentLines = sent.split('\r\n');
  const receivedLines = received.split('\r\n');
  let common = 0;
  while (common < sentLines.length && sentLines[common] === receivedLines[common]) common++;
  let tail = 0;
  while (
    tail < sentLines.length - common &&
    sentLines[sentLines.length - 1 - tail] === receivedLines[receivedLines.length - 1 - tail]
  ) {
    tail++;
  }
  if (common + tail === sentLines.length && receivedLines.length > sentLines.length) {
    return (
      `${receivedLines.length - sentLines.length} line(s) were inserted at line ${common + 1} ` +
      '(a footer, a tracking pixel or a disclaimer added in transit)'
    );
  }
  if (unwrapped(sent) === unwrapped(received)) {
    return 'the lines were re-wrapped: the same encoded text with other line breaks (a provider re-encoding quoted-printable or base64)';
  }
  if (sent.toLowerCase() === received.toLowerCase()) {
    return 'letters changed case (a header or boundary rewritten)';
  }
  return 'the content was changed in transit (re-encoded or rewritten)';
}

export function signedPartDiff(sentRaw: Buffer, receivedRaw: Buffer): SignedPartDiff {
  const sent = signedBytes(sentRaw).toString('latin1');
  const received = signedBytes(receivedRaw).toString('latin1');
  const diff: SignedPartDiff = {
    identical: sent === received,
    sentBytes: sent.length,
    receivedBytes: received.length,
    parts: compareParts(sent, received),
  };
  if (diff.identical) return diff;
  const a = sent.split('\r\n');
  const b = received.split('\r\n');
  let line = 0;
  while (line < a.length && a[line] === b[line]) line++;
  diff.firstDifference = { line: line + 1, sent: cut(a[line] ?? ''), received: cut(b[line] ?? '') };
  diff.explanation = explain(sent, received);
  return diff;
}

export function transitDiff(sent: Buffer, received: Buffer): TransitDiff {
  let signedPart: TransitDiff['signedPart'];
  try {
    signedPart = signedPartDiff(sent, received);
  } catch (e) {
    signedPart = {
      unreadable: `the delivered copy's signed part cannot be read: ${(e as Error).message}`,
    };
  }
  return { headers: headerChanges(sent, received), signedPart };
}
