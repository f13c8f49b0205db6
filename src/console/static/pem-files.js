// PEM files dropped together (a certificate, its chain, its key, in any order and under any
// names) sorted by what they hold: the private key, the certificate whose public key is the
// key's, and the CA certificates that form its chain. Only enough DER is read for that; the
// relay checks everything again.

/** The octets of base64 text, or null when it is not base64. */
function bytesOf(base64) {
  try {
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Every PEM block of a text: its label ("CERTIFICATE", "PRIVATE KEY" …), text and DER. */
export function pemBlocks(text) {
  const blocks = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    // Legacy encrypted PEM has "Proc-Type:" header lines before its base64.
    const lines = m[2].split(/\r?\n/).filter((l) => !l.includes(':'));
    const der = bytesOf(lines.join('').replace(/\s+/g, ''));
    blocks.push({ label: m[1], text: m[0], der, encrypted: /ENCRYPTED/.test(m[0]) });
  }
  return blocks;
}

/** One DER element at `pos`: its tag, where its contents start and end. */
function element(der, pos) {
  if (!der || pos + 2 > der.length) return null;
  const tag = der[pos];
  let len = der[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 4) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  const end = start + len;
  return end <= der.length ? { tag, start, end } : null;
}

/** The elements inside a constructed element. */
function children(der, el) {
  const out = [];
  for (let pos = el.start; pos < el.end;) {
    const c = element(der, pos);
    if (!c) break;
    out.push(c);
    pos = c.end;
  }
  return out;
}

const hex = (der, el) =>
  Array.from(der.subarray(el.start, el.end), (b) => b.toString(16).padStart(2, '0')).join('');
/** An INTEGER's value as hex without leading zero octets. */
const integer = (der, el) => hex(der, el).replace(/^(00)+/, '');
/** A BIT STRING's bits (after the unused-bits octet). */
const bits = (der, el) => hex(der, { start: el.start + 1, end: el.end });

/** RSAPublicKey / RSAPrivateKey's modulus, or undefined when `el` is not one. */
function rsaModulus(der, el) {
  const parts = el && el.tag === 0x30 ? children(der, el) : [];
  if (parts.length === 2 && parts.every((p) => p.tag === 0x02)) return integer(der, parts[0]);
  if (parts.length >= 9 && parts.every((p) => p.tag === 0x02)) return integer(der, parts[1]);
  return undefined;
}

/** What a certificate says of itself: subject, issuer, CA or not, and its public key. */
export function readCertificate(der) {
  const cert = element(der, 0);
  const tbs = cert && children(der, cert)[0];
  if (!tbs) return null;
  const f = children(der, tbs);
  const at = f[0] && f[0].tag === 0xa0 ? 1 : 0; // an explicit version comes first
  const [issuer, , subject, spki] = [f[at + 2], f[at + 3], f[at + 4], f[at + 5]];
  if (!issuer || !subject || !spki) return null;
  const keyBits = children(der, spki)[1];
  if (!keyBits || keyBits.tag !== 0x03) return null;
  const modulus = rsaModulus(der, element(der, keyBits.start + 1));
  const extensions = f.find((x) => x.tag === 0xa3);
  let isCa = false;
  for (const ext of extensions ? children(der, children(der, extensions)[0] ?? extensions) : []) {
    const [oid, ...rest] = children(der, ext);
    if (!oid || hex(der, oid) !== '551d13') continue; // basicConstraints
    const value = rest[rest.length - 1];
    const seq = value && element(der, value.start);
    const first = seq && children(der, seq)[0];
    isCa = Boolean(first && first.tag === 0x01 && der[first.start] !== 0);
  }
  return {
    subject: hex(der, subject),
    issuer: hex(der, issuer),
    isCa,
    publicKey: modulus ? `rsa:${modulus}` : `point:${bits(der, keyBits)}`,
  };
}

/** The public half a private key carries (RSA modulus, EC point), when it can be read. */
export function publicPartOfKey(block) {
  const { der, label, encrypted } = block;
  if (encrypted || !der) return undefined;
  let top = element(der, 0);
  if (!top || top.tag !== 0x30) return undefined;
  let parts = children(der, top);
  if (label === 'PRIVATE KEY') {
    // PKCS#8: version, algorithm, the key in an OCTET STRING, [1] an optional public key.
    const v2 = parts.find((p) => p.tag === 0x81);
    if (v2) return `point:${bits(der, v2)}`;
    const inner = parts[2] && parts[2].tag === 0x04 ? element(der, parts[2].start) : null;
    if (!inner || inner.tag !== 0x30) return undefined;
    top = inner;
    parts = children(der, inner);
  }
  const modulus = rsaModulus(der, top);
  if (modulus) return `rsa:${modulus}`;
  // SEC1 ECPrivateKey: version 1, the key, [0] parameters, [1] the public point.
  const tagged = parts.find((p) => p.tag === 0xa1);
  const point = tagged && element(der, tagged.start);
  return point && point.tag === 0x03 ? `point:${bits(der, point)}` : undefined;
}

/**
 * The upload fields for PEM texts: `certificate` (the signer), `privateKey`, `chain`. The
 * signer is the certificate a key matches; with an encrypted key, the end-entity
 * certificate (not a CA, and the issuer of no other certificate given).
 */
export function sortPemFiles(texts) {
  const blocks = texts.flatMap(pemBlocks);
  const keys = blocks.filter((b) => /PRIVATE KEY$/.test(b.label));
  const certs = blocks
    .filter((b) => /CERTIFICATE$/.test(b.label))
    .map((b) => ({ ...b, info: b.der ? readCertificate(b.der) : null }));
  let signer;
  let key;
  for (const k of keys) {
    const pub = publicPartOfKey(k);
    signer = pub && certs.find((c) => c.info && c.info.publicKey === pub);
    if (signer) {
      key = k;
      break;
    }
  }
  if (!signer) {
    const issuesAnother = (c) =>
      certs.some((o) => o !== c && o.info && c.info && o.info.issuer === c.info.subject);
    signer =
      certs.find((c) => c.info && !c.info.isCa && !issuesAnother(c)) ??
      certs.find((c) => c.info && !c.info.isCa) ??
      certs[0];
  }
  key = key ?? keys[0];
  const chain = certs.filter((c) => c !== signer).map((c) => c.text);
  return {
    certificate: signer ? signer.text : texts.join('\n'),
    privateKey: key ? key.text : undefined,
    chain: chain.length ? chain.join('\n') : undefined,
  };
}
