/**
 * The one table of stable error codes. Every code maps to an SMTP reply, an HTTP status,
 * a CLI exit code and a hint for the person who has to fix it. The table in docs/error-codes.md
 * is written from this list.
 */
export type ErrorCategory =
  'identity' | 'message' | 'verification' | 'delivery' | 'usage' | 'internal';

export interface ErrorCodeInfo {
  /** Whether retrying the same input can ever succeed. */
  permanent: boolean;
  category: ErrorCategory;
  /** SMTP reply code and enhanced status code used when the error reaches an SMTP client. */
  smtp: [number, string];
  http: number;
  /** What to do about it, in one sentence. */
  hint: string;
}

const identity = (hint: string): ErrorCodeInfo => ({
  permanent: true,
  category: 'identity',
  smtp: [550, '5.7.1'],
  http: 422,
  hint,
});
const message = (hint: string): ErrorCodeInfo => ({
  permanent: true,
  category: 'message',
  smtp: [550, '5.7.1'],
  http: 422,
  hint,
});
const verification = (hint: string): ErrorCodeInfo => ({
  permanent: true,
  category: 'verification',
  smtp: [550, '5.7.1'],
  http: 422,
  hint,
});

export const ERROR_CODES = {
  bad_certificate: identity('Provide an X.509 certificate in PEM or DER form, or a PKCS#12 file.'),
  bad_password: identity('Check the password of the PKCS#12 file or encrypted private key.'),
  bad_private_key: identity('Provide the private key as PEM (PKCS#8, PKCS#1 or SEC1) or PKCS#12.'),
  key_mismatch: identity('Use the private key that belongs to this certificate.'),
  chain_broken: identity(
    "Upload the CA's intermediate certificates as the CA issued them; this chain breaks the RFC 5280 path rules named.",
  ),
  unsupported_key: identity('Use an RSA key or an EC key on P-256, P-384 or P-521.'),
  weak_key: identity('Use an RSA key of at least 2048 bits; ask the CA for a new certificate.'),
  certificate_wrong_purpose: identity(
    'Use a certificate issued for email protection (S/MIME), with digitalSignature key usage.',
  ),
  certificate_expired: identity('Renew the certificate with your CA and upload the new one.'),
  certificate_not_yet_valid: identity(
    'Wait until the certificate becomes valid, or check the clock of this machine.',
  ),
  no_private_key: identity('Provide the private key, in the PKCS#12 file or with --key.'),
  no_certificate: identity(
    'Upload a valid certificate for the From: address, or send from an address that has one.',
  ),
  malformed_message: message(
    'Hand over a complete RFC 5322 message: header fields, a blank line, then the body.',
  ),
  no_from: message('Add a From: header with the address the certificate was issued for.'),
  international_address: message(
    'Write the domain in A-label form (xn--…); a non-ASCII local part needs SMTPUTF8, which the relay does not carry yet.',
  ),
  multiple_from: message('Put exactly one mailbox in From:; use Sender: or Reply-To: for others.'),
  from_mismatch: message(
    'Send from an address named in the certificate, or upload a certificate for this address.',
  ),
  not_signed: verification('This message carries no S/MIME signature.'),
  bad_signature_format: verification('The signature is not a readable CMS SignedData structure.'),
  signer_certificate_missing: verification(
    'The signature does not carry the signer certificate; ask the sender to include it.',
  ),
  weak_digest: verification(
    'Sign with SHA-256 or stronger; SHA-1 signatures are refused by clients.',
  ),
  digest_mismatch: verification(
    'The content was changed after signing; find the hop that rewrites the message.',
  ),
  bad_signature: verification('The signature value does not verify with the signer key.'),
  chain_untrusted: verification(
    'The signer certificate does not chain to a trusted root; pass the right --ca.',
  ),
  signing_time_mismatch: verification(
    'Sign without signingTime, or with one within an hour of Date:; Thunderbird shows this signature as not valid.',
  ),
  delivery_rejected: {
    permanent: true,
    category: 'delivery',
    smtp: [550, '5.0.0'],
    http: 502,
    hint: 'The upstream refused the message for good; read its reply in the attempt log.',
  },
  delivery_deferred: {
    permanent: false,
    category: 'delivery',
    smtp: [451, '4.4.1'],
    http: 503,
    hint: 'The upstream was unreachable or deferred the message; it is retried with backoff.',
  },
  delivery_expired: {
    permanent: true,
    category: 'delivery',
    smtp: [550, '5.4.7'],
    http: 504,
    hint: 'The upstream stayed unreachable or kept deferring until the retry period ended; check the delivery settings and the upstream, then retry the message.',
  },
  delivery_not_configured: {
    permanent: false,
    category: 'delivery',
    smtp: [451, '4.3.5'],
    http: 409,
    hint: "Set the tenant's upstream with PUT /v1/tenants/:tenantId/delivery.",
  },
  key_unavailable: {
    permanent: false,
    category: 'internal',
    smtp: [451, '4.3.0'],
    http: 500,
    hint: 'Start the service with the master key the key was stored under, or upload the certificate again.',
  },
  custody_auth_failed: {
    permanent: true,
    category: 'identity',
    smtp: [451, '4.7.0'],
    http: 422,
    hint: "Check the key's custody settings: the token's user PIN, or the AWS access key and secret.",
  },
  custody_key_not_found: {
    permanent: true,
    category: 'identity',
    smtp: [451, '4.7.0'],
    http: 422,
    hint: 'Check the token label or slot and the key label or id, or the KMS key id and region, and that the credentials may use the key.',
  },
  custody_key_disabled: {
    permanent: true,
    category: 'identity',
    smtp: [451, '4.7.0'],
    http: 422,
    hint: 'Enable the KMS key again (or cancel its deletion), then retry the message.',
  },
  custody_key_unusable: {
    permanent: true,
    category: 'identity',
    smtp: [451, '4.7.0'],
    http: 422,
    hint: 'Use a signing key (KMS key usage SIGN_VERIFY, CKA_SIGN on the token) of RSA 2048–4096 or ECC P-256/P-384.',
  },
  custody_unavailable: {
    permanent: false,
    category: 'internal',
    smtp: [451, '4.3.0'],
    http: 503,
    hint: 'The HSM or KMS is busy, throttling or out of reach; the message is retried with backoff.',
  },
  custody_failed: {
    permanent: true,
    category: 'internal',
    smtp: [451, '4.3.0'],
    http: 502,
    hint: 'The PKCS#11 library or the KMS answered something unexpected: read the message, check the library path and the token.',
  },
  invalid_request: {
    permanent: true,
    category: 'usage',
    smtp: [501, '5.5.4'],
    http: 400,
    hint: 'Fix the request as the message says; the API is described at /docs.',
  },
  unauthorized: {
    permanent: true,
    category: 'usage',
    smtp: [535, '5.7.8'],
    http: 401,
    hint: 'Send Authorization: Bearer with the operator token or a tenant API key.',
  },
  forbidden: {
    permanent: true,
    category: 'usage',
    smtp: [550, '5.7.1'],
    http: 403,
    hint: 'This needs the operator token; tenant API keys cannot do it.',
  },
  not_found: {
    permanent: true,
    category: 'usage',
    smtp: [550, '5.1.1'],
    http: 404,
    hint: 'Check the id; a tenant key sees only its own tenant.',
  },
  already_exists: {
    permanent: true,
    category: 'usage',
    smtp: [550, '5.7.1'],
    http: 409,
    hint: 'This certificate is already stored for the tenant; use the existing one.',
  },
  too_large: {
    permanent: true,
    category: 'message',
    smtp: [552, '5.3.4'],
    http: 413,
    hint: 'Send a smaller message; the limit is 25 MB.',
  },
  usage: {
    permanent: true,
    category: 'usage',
    smtp: [501, '5.5.4'],
    http: 400,
    hint: 'Run with --help to see the options.',
  },
  internal_error: {
    permanent: false,
    category: 'internal',
    smtp: [451, '4.3.0'],
    http: 500,
    hint: 'Try again; if it persists, report it with the log line.',
  },
} satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
