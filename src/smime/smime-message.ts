/**
 * Finds the signature and the signed content in an S/MIME message: multipart/signed
 * (RFC 8551 §3.5.3, RFC 1847) or application/pkcs7-mime signed-data (RFC 8551 §3.5.2).
 */
import { RelayError } from '../plugin/relay-error';
import {
  contentTypeOf,
  fieldValue,
  findField,
  parseEntity,
  splitMultipart,
  toCrlf,
  type HeaderField,
} from './mime';
import { decodeBase64 } from './transfer-encoding';

const PKCS7_SIGNATURE = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);

export interface Extracted {
  format: 'detached' | 'opaque';
  der: Buffer;
  content?: Buffer;
  outer: HeaderField[];
}

export function extract(raw: Buffer): Extracted {
  const top = parseEntity(toCrlf(raw.toString('latin1')), 'message header');
  const ct = contentTypeOf(top.headers);
  const kind = ct ? `${ct.type}/${ct.subtype}` : 'text/plain';
  if (kind === 'multipart/signed') {
    const boundary = ct?.params.get('boundary');
    const body = boundary ? splitMultipart(top.body, boundary) : undefined;
    // Exactly the signed part and the signature (RFC 1847 §2.1): an extra, unsigned part
    // would be shown to the reader as if it were covered by the signature.
    if (!body || body.parts.length !== 2) {
      throw new RelayError('bad_signature_format', 'multipart/signed must have exactly two parts');
    }
    const protocol = ct?.params.get('protocol')?.toLowerCase();
    const sigPart = parseEntity(body.parts[1], 'signature part header');
    const sigType = contentTypeOf(sigPart.headers);
    const sigKind = sigType ? `${sigType.type}/${sigType.subtype}` : '';
    if (!PKCS7_SIGNATURE.has(protocol ?? '') || !PKCS7_SIGNATURE.has(sigKind)) {
      throw new RelayError(
        'bad_signature_format',
        `multipart/signed with protocol ${protocol ?? '(none)'} and a ${sigKind || 'untyped'} signature part is not S/MIME`,
      );
    }
    return {
      format: 'detached',
      der: Buffer.from(decodeBase64(sigPart.body), 'latin1'),
      content: Buffer.from(body.parts[0], 'latin1'),
      outer: top.headers,
    };
  }
  if (kind === 'application/pkcs7-mime' || kind === 'application/x-pkcs7-mime') {
    const smimeType = ct?.params.get('smime-type')?.toLowerCase();
    if (smimeType && smimeType !== 'signed-data') {
      throw new RelayError('not_signed', `the message is S/MIME ${smimeType}, not signed-data`);
    }
    const cte = findField(top.headers, 'content-transfer-encoding');
    const isB64 = cte && fieldValue(cte).toLowerCase() === 'base64';
    const der = Buffer.from(isB64 ? decodeBase64(top.body) : top.body, 'latin1');
    return { format: 'opaque', der, outer: top.headers };
  }
  throw new RelayError('not_signed', `the message is ${kind}, not an S/MIME signature`);
}
