/**
 * Path building from a signer certificate to a trust anchor, checking each signature,
 * validity period and CA flag on the way (a small subset of RFC 5280 §6, enough for the
 * root → intermediate → end-entity chains S/MIME uses).
 */
import type { CertificateInfo } from './certificate';

function issuedBy(cert: CertificateInfo, issuer: CertificateInfo): boolean {
  if (!issuer.subjectDer.equals(cert.issuerDer)) return false;
  try {
    return cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

const validAt = (c: CertificateInfo, now: Date): boolean => now >= c.notBefore && now <= c.notAfter;

/** Returns undefined when the chain is trusted, or a sentence saying why not. */
export function verifyChain(
  signer: CertificateInfo,
  pool: CertificateInfo[],
  anchors: CertificateInfo[],
  now: Date,
): string | undefined {
  let current = signer;
  for (let depth = 0; depth < 10; depth++) {
    if (anchors.some((a) => a.der.equals(current.der))) return undefined;
    const anchor = anchors.find((a) => issuedBy(current, a));
    if (anchor) {
      if (!validAt(anchor, now)) return `the trust anchor ${anchor.subject} is not valid now`;
      return undefined;
    }
    const next = pool.find((c) => c !== current && issuedBy(current, c));
    if (!next) return `no trusted issuer was found for ${current.subject}`;
    if (!next.isCa) return `${next.subject} is not a CA certificate`;
    if (!validAt(next, now)) return `the intermediate ${next.subject} is not valid now`;
    current = next;
  }
  return 'the certificate chain is too long';
}
