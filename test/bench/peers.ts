/**
 * The peers the engine is compared with. Each factory returns one "sign a message" operation
 * (a function returning the signed S/MIME message); setup that a real user does once (parse a
 * certificate, import a key, create a transport) happens in the factory, not per message.
 */
import { execFile } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { createRequire } from 'node:module';
import * as asn1js from 'asn1js';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import smime from 'nodemailer-smime';
import * as pkijs from 'pkijs';
import { prepareMessage, type HashName } from '../../src';
import type { TestIdentity } from '../helpers/pki';

export type SignOp = () => Promise<Buffer>;

const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5';
const WEBCRYPTO_HASH: Record<HashName, string> = {
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
};

function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

let pkijsEngineSet = false;
function usePkijsNodeEngine(): void {
  if (pkijsEngineSet) return;
  // As the pkijs docs show for Node: a CryptoEngine over Node's WebCrypto implementation.
  const name = 'node-webcrypto';
  const crypto = webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'];
  pkijs.setEngine(name, new pkijs.CryptoEngine({ name, crypto }));
  pkijsEngineSet = true;
}

let boundaryCounter = 0;
/** A plain multipart/signed wrap around a ready CMS signature (what a pkijs user must add). */
function wrapDetached(outerRaw: string[], entity: Buffer, cms: Buffer, hash: HashName): Buffer {
  let boundary: string;
  do boundary = `----=_peer_${process.pid}_${(boundaryCounter++).toString(36)}`;
  while (entity.indexOf(boundary) >= 0);
  const head = [
    ...outerRaw,
    `Content-Type: multipart/signed; protocol="application/pkcs7-signature";`,
    ` micalg=${hash.replace('sha', 'sha-')}; boundary="${boundary}"`,
  ].join('\r\n');
  const b64 = cms.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return Buffer.concat([
    Buffer.from(`${head}\r\n\r\nThis is an S/MIME signed message\r\n\r\n--${boundary}\r\n`),
    entity,
    Buffer.from(
      `\r\n--${boundary}\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n` +
        `Content-Transfer-Encoding: base64\r\n` +
        `Content-Disposition: attachment; filename=smime.p7s\r\n\r\n${b64}--${boundary}--\r\n`,
    ),
  ]);
}

/**
 * pkijs 4 SignedData as its "Working with CMS Signing" example builds it, per message: digest,
 * SignedData + SignerInfo + IssuerAndSerialNumber, the three signed attributes, sign(), then
 * ContentInfo → BER. It gets the canonical entity the engine would sign (prepared once), plus a
 * simple multipart/signed wrap. Certificates are parsed once, but pkijs re-encodes them (and
 * everything else) in every toSchema().
 */
export async function pkijsSigner(
  identity: TestIdentity,
  chainPem: string,
  raw: Buffer,
  hash: HashName,
): Promise<SignOp> {
  usePkijsNodeEngine();
  const subtle = webcrypto.subtle; // what the pkijs engine calls
  const cert = pkijs.Certificate.fromBER(pemToDer(identity.certPem));
  const intermediate = pkijs.Certificate.fromBER(pemToDer(chainPem));
  const hashName = WEBCRYPTO_HASH[hash];
  const ec = identity.keyType === 'p256' || identity.keyType === 'p384';
  const algorithm = ec
    ? { name: 'ECDSA', namedCurve: identity.keyType === 'p256' ? 'P-256' : 'P-384' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: hashName };
  const key = await subtle.importKey('pkcs8', pemToDer(identity.keyPem), algorithm, false, [
    'sign',
  ]);
  const prepared = prepareMessage(raw);
  const outer = prepared.outer.map((h) => h.raw);
  const entity = prepared.entity;

  return async () => {
    const digest = await subtle.digest({ name: hashName }, entity);
    const signedData = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: pkijs.ContentInfo.DATA }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({
            issuer: cert.issuer,
            serialNumber: cert.serialNumber,
          }),
        }),
      ],
      certificates: [cert, intermediate],
    });
    signedData.signerInfos[0].signedAttrs = new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: [
        new pkijs.Attribute({
          type: OID_CONTENT_TYPE,
          values: [new asn1js.ObjectIdentifier({ value: pkijs.ContentInfo.DATA })],
        }),
        new pkijs.Attribute({
          type: OID_SIGNING_TIME,
          values: [new asn1js.UTCTime({ valueDate: new Date() })],
        }),
        new pkijs.Attribute({
          type: OID_MESSAGE_DIGEST,
          values: [new asn1js.OctetString({ valueHex: digest })],
        }),
      ],
    });
    await signedData.sign(key, 0, hashName, entity);
    const cms = new pkijs.ContentInfo({
      contentType: pkijs.ContentInfo.SIGNED_DATA,
      content: signedData.toSchema(true),
    })
      .toSchema()
      .toBER(false);
    return wrapDetached(outer, entity, Buffer.from(cms), hash);
  };
}

const NODEMAILER_OWN = new Set(['date', 'from', 'to', 'reply-to', 'subject', 'message-id']);

/** The 20 KB newsletter's content as nodemailer message options (nodemailer builds the MIME). */
export async function nodemailerMessage(raw: Buffer): Promise<Mail.Options> {
  const parsed = await simpleParser(raw);
  const address = (a: typeof parsed.to): string | undefined =>
    a === undefined ? undefined : Array.isArray(a) ? a.map((x) => x.text).join(', ') : a.text;
  const headers = prepareMessage(raw)
    .outer.filter((h) => !NODEMAILER_OWN.has(h.name) && h.name !== 'mime-version')
    .map((h) => {
      const colon = h.raw.indexOf(':');
      const value = h.raw.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ');
      return { key: h.raw.slice(0, colon), value: value.trim() };
    });
  return {
    from: parsed.from?.text,
    to: address(parsed.to),
    replyTo: address(parsed.replyTo),
    subject: parsed.subject,
    messageId: parsed.messageId,
    date: parsed.date,
    text: parsed.text,
    html: parsed.html || undefined,
    headers,
  };
}

/** The node-forge copy nodemailer-smime loads (it ships no types; this is all we call). */
interface Forge {
  pki: { certificateFromPem(pem: string): unknown; privateKeyFromPem(pem: string): unknown };
}
const forge = (): Forge =>
  createRequire(require.resolve('nodemailer-smime'))('node-forge') as Forge;

/**
 * nodemailer + the nodemailer-smime plugin (node-forge 0.7 PKCS#7, sha256, pure-JS RSA), via
 * streamTransport with buffer: true. With `identity` undefined: nodemailer alone (no signature),
 * to show how much of the figure is nodemailer building the MIME.
 */
export function nodemailerSigner(
  message: Mail.Options,
  identity: TestIdentity | undefined,
  chainPem: string,
): SignOp {
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
  });
  if (identity) {
    // The plugin hands these PEMs to node-forge inside a stream callback, where a throw (forge
    // 0.7 reads RSA keys only) is an uncaught exception and sendMail never settles: ask first.
    forge().pki.certificateFromPem(identity.certPem);
    forge().pki.privateKeyFromPem(identity.keyPem);
    transport.use(
      'stream',
      smime({ cert: identity.certPem, chain: [chainPem], key: identity.keyPem }),
    );
  }
  return async () => {
    const info = await transport.sendMail(message);
    if (!Buffer.isBuffer(info.message)) throw new Error('streamTransport did not buffer');
    return info.message;
  };
}

/**
 * `openssl cms -sign -binary -md sha256 -signer cert -inkey key -certfile chain`, one process
 * per message, the canonical entity on stdin, the S/MIME message on stdout.
 */
export function opensslSigner(identity: TestIdentity, chainPath: string, raw: Buffer): SignOp {
  const entity = prepareMessage(raw).entity;
  // prettier-ignore
  const args = [
    'cms', '-sign', '-binary', '-md', 'sha256', '-signer', identity.certPath,
    '-inkey', identity.keyPath, '-certfile', chainPath,
  ];
  return () =>
    new Promise((resolve, reject) => {
      const child = execFile(
        'openssl',
        args,
        { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 30_000 },
        (err, stdout, stderr) => {
          if (err) {
            const detail = stderr.toString('utf8').trim().split('\n')[0];
            reject(new Error(`openssl: ${detail || err.message}`));
          } else resolve(stdout);
        },
      );
      child.stdin?.on('error', () => undefined); // EPIPE when openssl fails early
      child.stdin?.end(entity);
    });
}
