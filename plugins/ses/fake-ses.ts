/**
 * Test stand-in for the Amazon SES API v2 on 127.0.0.1: `POST /v2/email/outbound-emails`
 * (SendEmail) and `GET /v2/email/account` (GetAccount). It checks each request's SigV4
 * signature against the one key it knows, records what it receives (Content.Raw.Data
 * decoded) and answers as SES does, or with a scripted error: status, `x-amzn-ErrorType`
 * header and `{"message": …}` body.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectedSigV4 } from './fake-sigv4';

export interface FakeSesKey {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface FakeSesRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The JSON body, parsed ({} for GET). */
  body: Record<string, unknown>;
  /** SendEmail's Content.Raw.Data, base64-decoded. */
  raw?: Buffer;
  /**
   * What SES would hand to the recipient's server: Date replaced by the time of acceptance,
   * Message-ID by its own, Feedback-ID and X-SES-Outgoing added (SES Developer Guide,
   * "Header fields"; SES's own DKIM signature is not emulated).
   */
  delivered?: Buffer;
}

/** The transit changes SES documents, applied to a raw message it accepted. */
export function sesTransit(raw: Buffer, messageId: string, region: string, at: Date): Buffer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const fields = text
    .slice(0, end)
    .split(/\r\n(?![ \t])/)
    .filter((f) => !/^(date|message-id)\s*:/i.test(f));
  const date = at.toUTCString().replace('GMT', '+0000');
  return Buffer.from(
    [
      `Feedback-ID: 1.${region}.fake:AmazonSES`,
      `X-SES-Outgoing: ${at.toISOString().slice(0, 10).replace(/-/g, '.')}-127.0.0.1`,
      ...fields,
      `Message-ID: <${messageId}@${region}.amazonses.com>`,
      `Date: ${date}`,
    ].join('\r\n') + text.slice(end),
    'latin1',
  );
}

export interface ScriptedError {
  status: number;
  type: string;
  message: string;
  /** The Date header of the answer (a server clock the client disagrees with). */
  date?: Date;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ses\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/** Why the request's signature is not one `key` made, or undefined when it is. */
function signatureProblem(req: IncomingMessage, body: Buffer, key: FakeSesKey): string | undefined {
  const m = AUTH.exec(String(req.headers.authorization ?? ''));
  if (!m) return 'missing or malformed AWS4-HMAC-SHA256 Authorization header';
  const [, keyId, date, region, signedHeaders, signature] = m;
  if (keyId !== key.accessKeyId) return 'unknown access key id';
  if (region !== key.region) return `credential scope is for ${region}, not ${key.region}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential scope';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host is not signed';
  const expected = expectedSigV4(req, body, {
    secretAccessKey: key.secretAccessKey,
    date,
    region,
    service: 'ses',
    signedHeaders,
    amzDate,
  });
  return expected === signature ? undefined : 'signature mismatch';
}

function parseJson(bytes: Buffer): Record<string, unknown> {
  try {
    return bytes.length ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : {};
  } catch {
    return { unparsable: bytes.toString('latin1') };
  }
}

export class FakeSes {
  readonly requests: FakeSesRequest[] = [];
  /** Answered in turn, one per request, before any normal answer. */
  readonly script: (ScriptedError | 'hang')[] = [];
  sendingEnabled = true;
  private readonly server = createServer((req, res) => this.handle(req, res));

  constructor(private readonly key: FakeSesKey) {}

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const body = parseJson(bytes);
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      const data = (body.Content as { Raw?: { Data?: unknown } } | undefined)?.Raw?.Data;
      const raw = typeof data === 'string' ? Buffer.from(data, 'base64') : undefined;
      const request: FakeSesRequest = {
        method: req.method ?? '',
        path,
        headers: req.headers,
        body,
        raw,
      };
      this.requests.push(request);
      const scripted = this.script.shift();
      if (scripted === 'hang') return;
      if (scripted) return this.error(res, scripted);
      const problem = signatureProblem(req, bytes, this.key);
      if (problem === 'unknown access key id') {
        return this.error(res, {
          status: 403,
          type: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        });
      }
      if (problem) {
        return this.error(res, {
          status: 403,
          type: 'InvalidSignatureException',
          message: `The request signature we calculated does not match the signature you provided (${problem}).`,
        });
      }
      if (req.method === 'POST' && path === '/v2/email/outbound-emails') {
        if (!raw || raw.toString('base64') !== data) {
          return this.error(res, { status: 400, type: 'BadRequestException', message: 'Raw' });
        }
        const id = `0102019${randomBytes(8).toString('hex')}-${randomUUID()}-000000`;
        request.delivered = sesTransit(raw, id, this.key.region, new Date());
        return this.json(res, 200, { MessageId: id });
      }
      if (req.method === 'GET' && path === '/v2/email/account') {
        return this.json(res, 200, {
          SendingEnabled: this.sendingEnabled,
          ProductionAccessEnabled: true,
          EnforcementStatus: this.sendingEnabled ? 'HEALTHY' : 'SHUTDOWN',
          SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 },
        });
      }
      this.error(res, { status: 404, type: 'NotFoundException', message: `no route ${path}` });
    });
  }

  private json(res: ServerResponse, status: number, body: object, type?: string, date?: Date) {
    if (date) res.setHeader('date', date.toUTCString());
    res.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...(type
        ? { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/` }
        : {}),
    });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, e: ScriptedError): void {
    this.json(res, e.status, { message: e.message }, e.type, e.date);
  }
}

export const startFakeSes = (key: FakeSesKey): Promise<FakeSes> => new FakeSes(key).start();
