import { RelayError } from '../plugin/relay-error';

/**
 * The one refusal for a From address no valid certificate of the tenant covers, for SMTP
 * intake, the postback and POST …/sign alike: `from_mismatch` when the tenant has valid
 * certificates for other addresses, `no_certificate` when it has none.
 */
export function uncoveredFrom(from: string, tenantHasValidCertificates: boolean): RelayError {
  return tenantHasValidCertificates
    ? new RelayError(
        'from_mismatch',
        `From: is ${from}, and no valid certificate of this tenant names that address`,
      )
    : new RelayError('no_certificate', `no valid certificate of this tenant covers ${from}`);
}

/** Whether a certificate is in use and valid now. */
export const validNow = (c: { status: string; notBefore: string; notAfter: string }): boolean =>
  c.status === 'active' &&
  Date.parse(c.notBefore) <= Date.now() &&
  Date.now() <= Date.parse(c.notAfter);
