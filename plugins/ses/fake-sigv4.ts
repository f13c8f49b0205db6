/**
 * AWS Signature Version 4 as a server checks it, for the loopback AWS fakes (SES, KMS): the
 * signature the request should carry, computed from its method, path, query, signed headers
 * and body with the one secret the fake knows.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** The hex signature `req` (with `body`) must carry for this secret and credential scope. */
export function expectedSigV4(
  req: IncomingMessage,
  body: Buffer,
  s: {
    secretAccessKey: string;
    /** The scope's date (YYYYMMDD), region and service. */
    date: string;
    region: string;
    service: string;
    /** The SignedHeaders list ("host;x-amz-date"), and the request's X-Amz-Date. */
    signedHeaders: string;
    amzDate: string;
  },
): string {
  const url = new URL(req.url ?? '/', 'http://fake');
  const query = [...url.searchParams].map(([k, v]) => `${k}=${v}`).sort();
  const canonicalHeaders = s.signedHeaders
    .split(';')
    .map(
      (n) =>
        `${n}:${String(req.headers[n] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [
    req.method,
    url.pathname,
    query.join('&'),
    canonicalHeaders,
    s.signedHeaders,
    sha256(body),
  ].join('\n');
  const scope = `${s.date}/${s.region}/${s.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', s.amzDate, scope, sha256(canonical)].join('\n');
  const signingKey = [s.service, 'aws4_request'].reduce(
    (k, part) => hmac(k, part),
    hmac(hmac(`AWS4${s.secretAccessKey}`, s.date), s.region),
  );
  return hmac(signingKey, toSign).toString('hex');
}
