/**
 * Certificate path checks (RFC 5280 §6).
 *
 * - verifyChain(): path building and validation from a signer certificate to a trust anchor,
 *   done by pkijs' CertificateChainValidationEngine (signatures, validity at `now`, name
 *   chaining, basicConstraints cA and keyCertSign of every issuer), plus the
 *   pathLenConstraint check that engine leaves out. Its result codes are turned into a
 *   sentence that names the certificate at fault.
 * - checkIssuedChain(): the synchronous structural check of an uploaded chain, as far as it
 *   goes (usually without a root): name chaining, issuer signatures, cA, keyCertSign and
 *   pathLenConstraint, with the same sentences.
 */
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import { OID } from './algorithms';
import { isSelfIssued, type CertificateInfo } from './certificate';

/** The sentences both checks use; each names the certificate and the rule it breaks. */
const say = {
  notCa: (role: string, c: CertificateInfo) => `the ${role} ${c.subject} is not a CA certificate`,
  noKeyCertSign: (role: string, c: CertificateInfo) =>
    `the ${role} ${c.subject} has no keyCertSign key usage`,
  pathLen: (c: CertificateInfo, max: number) =>
    `the path length constraint of ${c.subject} (pathLenConstraint ${max}) is exceeded`,
  nameChain: (child: CertificateInfo, issuer: CertificateInfo) =>
    `the issuer name of ${child.subject} (${child.issuer}) does not match the subject of ${issuer.subject}, whose key signed it`,
  badSignature: (child: CertificateInfo, issuer: CertificateInfo) =>
    `the signature on ${child.subject} does not verify with the key of ${issuer.subject}`,
  criticalExtension: (role: string, c: CertificateInfo, oid: string) =>
    `the ${role} ${c.subject} has a critical extension (${oid}) that cannot be processed`,
  notValid: (role: string, c: CertificateInfo, now: Date) =>
    now > c.notAfter
      ? `the ${role} ${c.subject} expired on ${c.notAfter.toISOString()}`
      : `the ${role} ${c.subject} is not valid before ${c.notBefore.toISOString()}`,
  noIssuer: (c: CertificateInfo) =>
    isSelfIssued(c)
      ? `the root ${c.subject} is not a trust anchor`
      : `no trusted issuer was found for ${c.subject}`,
  tooLong: 'the certificate chain is too long or loops',
};

/** More issuer look-ups than any real chain needs; a loop of cross-certificates stops here. */
const MAX_ISSUER_LOOKUPS = 32;

const signedBy = (child: CertificateInfo, issuer: CertificateInfo): boolean => {
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
};

const parsedPkijs = new WeakMap<CertificateInfo, pkijs.Certificate | null>();
/** The pkijs view of a certificate (parsing is synchronous); null when pkijs cannot read it. */
function pkijsOf(c: CertificateInfo): pkijs.Certificate | null {
  let p = parsedPkijs.get(c);
  if (p === undefined) {
    try {
      p = pkijs.Certificate.fromBER(new Uint8Array(c.der));
    } catch {
      p = null;
    }
    parsedPkijs.set(c, p);
  }
  return p;
}

/** basicConstraints pathLenConstraint, when present (a value too big for a number is no limit). */
function pathLenOf(c: CertificateInfo): number | undefined {
  const ext = pkijsOf(c)?.extensions?.find((e) => e.extnID === OID.basicConstraints);
  const bc = ext?.parsedValue;
  if (!(bc instanceof pkijs.BasicConstraints) || bc.pathLenConstraint === undefined) {
    return undefined;
  }
  return typeof bc.pathLenConstraint === 'number' ? bc.pathLenConstraint : Infinity;
}

/**
 * The first pathLenConstraint broken in `path` (signer first, each issuer after it): an issuer
 * may have at most pathLenConstraint non-self-issued intermediates below it (RFC 5280 §6.1.4).
 */
function pathLenProblem(path: CertificateInfo[]): string | undefined {
  let below = 0;
  for (let i = 1; i < path.length; i++) {
    const max = pathLenOf(path[i]);
    if (max !== undefined && below > max) return say.pathLen(path[i], max);
    if (!isSelfIssued(path[i])) below++;
  }
  return undefined;
}

/** cA and keyCertSign of an issuer (RFC 5280 §6.1.4 (k), (n)). */
function issuerProblem(role: string, issuer: CertificateInfo): string | undefined {
  if (!issuer.isCa) return say.notCa(role, issuer);
  if (issuer.keyUsage && !issuer.keyUsage.keyCertSign) return say.noKeyCertSign(role, issuer);
  return undefined;
}

/**
 * The structural check of an uploaded chain, synchronous: `issuers` are the signer's issuer
 * first, then its issuer, and so on (a root at the end if one was uploaded). Each must be the
 * name and signature issuer of the certificate below it, a CA with keyCertSign (when it has a
 * keyUsage) and within its pathLenConstraint. Validity dates are not judged here. Returns
 * undefined when the chain holds, or a sentence saying why not.
 */
export function checkIssuedChain(
  signer: CertificateInfo,
  issuers: CertificateInfo[],
): string | undefined {
  const path = [signer, ...issuers];
  for (let i = 1; i < path.length; i++) {
    const child = path[i - 1];
    const issuer = path[i];
    if (!signedBy(child, issuer)) return say.badSignature(child, issuer);
    if (!issuer.subjectDer.equals(child.issuerDer)) return say.nameChain(child, issuer);
    const problem = issuerProblem(isSelfIssued(issuer) ? 'root' : 'intermediate', issuer);
    if (problem) return problem;
  }
  return pathLenProblem(path);
}

let cryptoEngine: pkijs.CryptoEngine | undefined;
/** pkijs' crypto engine over Node's WebCrypto, passed explicitly (no global engine is set). */
function engine(): pkijs.CryptoEngine {
  cryptoEngine ??= new pkijs.CryptoEngine({
    name: 'node-webcrypto',
    crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
  });
  return cryptoEngine;
}

/** Certificates in input order, each DER only once, without those in `except`. */
function unique(certs: CertificateInfo[], except: CertificateInfo[] = []): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  for (const c of certs) {
    if (![...out, ...except].some((o) => o.der.equals(c.der))) out.push(c);
  }
  return out;
}

/**
 * Returns undefined when the chain from `signer` through certificates of `pool` to one of
 * `anchors` is valid at `now`, or a sentence saying why not. The signer's own validity period
 * is not judged here: verifyMessage() reports it as certificate_expired/_not_yet_valid.
 */
export async function verifyChain(
  signer: CertificateInfo,
  pool: CertificateInfo[],
  anchors: CertificateInfo[],
  now: Date,
): Promise<string | undefined> {
  if (anchors.some((a) => a.der.equals(signer.der))) return undefined;
  const trusted = unique(anchors);
  const others = unique(pool, [signer, ...trusted]);
  const pairs: [pkijs.Certificate, CertificateInfo][] = [];
  const view = (c: CertificateInfo): pkijs.Certificate | undefined => {
    // A fresh object per run: the engine caches on it, and the signer's dates change below.
    let copy: pkijs.Certificate;
    try {
      copy = pkijs.Certificate.fromBER(new Uint8Array(c.der));
    } catch {
      return undefined;
    }
    pairs.push([copy, c]);
    return copy;
  };
  const leaf = view(signer);
  if (!leaf)
    return `the signer certificate ${signer.subject} could not be read for path validation`;
  // The engine checks the dates of every certificate on the path; leave out the signer's.
  if (leaf.notBefore.value > now) leaf.notBefore.value = now;
  if (leaf.notAfter.value < now) leaf.notAfter.value = now;

  const edges = new Map<pkijs.Certificate, pkijs.Certificate[]>();
  let lookups = 0;
  const chainEngine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: trusted.map(view).filter((c) => c !== undefined),
    // The engine takes the last certificate as the one to validate.
    certs: [...others.map(view).filter((c) => c !== undefined), leaf],
    checkDate: now,
    // The engine's own issuer search (name or key identifier, then signature), recorded so
    // the certificate at fault can be named, and bounded against loops. A certificate without
    // an issuer ends its branch as if self-signed (such a path holds no trust anchor and is
    // dropped) instead of failing the whole search, so a dead branch, e.g. a cross-certificate
    // whose issuer is absent, does not hide a good path.
    findIssuer: async (cert, validation, crypto) => {
      if (++lookups > MAX_ISSUER_LOOKUPS) throw new Error(say.tooLong);
      const found = await validation.defaultFindIssuer(cert, validation, crypto);
      edges.set(cert, found);
      return found.length > 0 ? found : [cert];
    },
  });
  const result = await chainEngine.verify({}, engine());
  const info = (p: pkijs.Certificate): CertificateInfo =>
    pairs.find(([q]) => q === p)?.[1] ?? signer;
  if (result.result) {
    const path = (result.certificatePath ?? []).map(info);
    return pathLenProblem(path);
  }
  return explain(result, signer, leaf, edges, trusted, [signer, ...others], info, now);
}

/** A sentence for a failed pkijs validation, naming the certificate on the path at fault. */
function explain(
  result: { resultCode: number; resultMessage: string },
  signer: CertificateInfo,
  leaf: pkijs.Certificate,
  edges: Map<pkijs.Certificate, pkijs.Certificate[]>,
  trusted: CertificateInfo[],
  candidates: CertificateInfo[],
  info: (p: pkijs.Certificate) => CertificateInfo,
  now: Date,
): string {
  if (result.resultMessage === say.tooLong) return say.tooLong;
  const isTrusted = (c: CertificateInfo): boolean => trusted.some((t) => t.der.equals(c.der));
  const path = shortestTrustedPath(leaf, edges, isTrusted, info);
  const role = (i: number): string =>
    i === path.length - 1 && isTrusted(path[i]) ? 'trust anchor' : 'intermediate';
  switch (result.resultCode) {
    case 8: {
      // "The certificate is either not yet valid or expired"
      const i = path.findIndex((c, k) => k > 0 && (now < c.notBefore || now > c.notAfter));
      if (i > 0) return say.notValid(role(i), path[i], now);
      break;
    }
    case 10: {
      // "Incorrect name chaining"
      for (let i = 0; i + 1 < path.length; i++) {
        if (!isSelfIssued(path[i]) && !path[i].issuerDer.equals(path[i + 1].subjectDer)) {
          return say.nameChain(path[i], path[i + 1]);
        }
      }
      break;
    }
    case 14: {
      // "One of intermediate certificates is not a CA certificate": the engine's CA check
      // (cA, keyCertSign, readable critical extensions) on every certificate above the signer.
      for (let i = 1; i < path.length; i++) {
        const critical = pkijsOf(path[i])?.extensions?.find((e) => e.critical && !e.parsedValue);
        if (critical) return say.criticalExtension(role(i), path[i], critical.extnID);
        const problem = issuerProblem(role(i), path[i]);
        if (problem) return problem;
      }
      break;
    }
    case -1:
    case 60:
    case 97: {
      // No path to a trust anchor: name the highest certificate reached, or the issuer by name
      // whose signature does not verify.
      if (!/certificate path/i.test(result.resultMessage)) break;
      const top = highestReached(leaf, edges, info);
      if (isSelfIssued(top)) return say.noIssuer(top);
      const named = [...candidates, ...trusted].find(
        (c) => c !== top && c.subjectDer.equals(top.issuerDer),
      );
      if (named && !signedBy(top, named)) return say.badSignature(top, named);
      return say.noIssuer(top);
    }
  }
  return `the chain of ${signer.subject} fails RFC 5280 path validation: ${result.resultMessage}`;
}

/** The shortest recorded path from the signer to a trusted certificate, as the engine picks. */
function shortestTrustedPath(
  leaf: pkijs.Certificate,
  edges: Map<pkijs.Certificate, pkijs.Certificate[]>,
  isTrusted: (c: CertificateInfo) => boolean,
  info: (p: pkijs.Certificate) => CertificateInfo,
): CertificateInfo[] {
  const queue: pkijs.Certificate[][] = [[leaf]];
  const seen = new Set([leaf]);
  let longest = [leaf];
  while (queue.length > 0) {
    const path = queue.shift() ?? [];
    const last = path[path.length - 1];
    if (path.length > 1 && isTrusted(info(last))) return path.map(info);
    if (path.length > longest.length) longest = path;
    for (const next of edges.get(last) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push([...path, next]);
      }
    }
  }
  return longest.map(info);
}

/** The last certificate reached from the signer by the engine's issuer search. */
function highestReached(
  leaf: pkijs.Certificate,
  edges: Map<pkijs.Certificate, pkijs.Certificate[]>,
  info: (p: pkijs.Certificate) => CertificateInfo,
): CertificateInfo {
  let current = leaf;
  const seen = new Set([leaf]);
  for (;;) {
    const next = (edges.get(current) ?? []).find((c) => !seen.has(c));
    if (!next) return info(current);
    seen.add(next);
    current = next;
  }
}
