/**
 * lintSmimeCertificate() on certificates built with the openssl CLI: an RSA root and an RSA
 * intermediate (EKU emailProtection) issue one leaf per case; every case starts from a clean
 * strict mailbox-validated P-256 certificate and changes one thing. Each test names the exact
 * findings (code and severity) it expects, so stray findings fail too.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runOk } from '../../test/helpers/pki-exec';
import { certificatesFrom } from '../smime/certificate';
import { lintSmimeCertificate, type LintReport } from './smime-lint';

type KeyName = 'p256' | 'rsa2048' | 'rsa1024' | 'rsa2052' | 'rsapss' | 'secp256k1' | 'ed25519';

const KEYS: Record<KeyName | 'x25519', string[]> = {
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  rsa2052: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2052'],
  rsapss: ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
  secp256k1: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
  ed25519: ['-algorithm', 'ED25519'],
  x25519: ['-algorithm', 'X25519'],
};

const STRICT_MAILBOX = '2.23.140.1.5.1.3';

/** The extensions of a clean strict mailbox-validated leaf (S/MIME BR 7.1.2.3). */
const BASE_EXT: Record<string, string> = {
  basicConstraints: 'critical,CA:FALSE',
  keyUsage: 'critical,digitalSignature',
  extendedKeyUsage: 'emailProtection',
  subjectAltName: 'email:news@example.com',
  certificatePolicies: STRICT_MAILBOX,
  authorityInfoAccess: 'caIssuers;URI:http://ca.example.com/int.crt',
  crlDistributionPoints: 'URI:http://ca.example.com/int.crl',
  subjectKeyIdentifier: 'hash',
  authorityKeyIdentifier: 'keyid',
};

interface Case {
  /** Changes to BASE_EXT; null removes the extension. */
  ext?: Record<string, string | null>;
  subj?: string;
  key?: KeyName;
  days?: number;
  /** Digest option for openssl x509 (default -sha256). */
  md?: string;
  sigopts?: string[];
  issuer?: 'int' | 'intServer' | 'self';
  /** Put the X25519 public key into the certificate instead of the CSR's. */
  x25519?: boolean;
}

const POLICY_OIDS = [1, 2, 3, 4].flatMap((t) => [1, 2, 3].map((g) => `2.23.140.1.5.${t}.${g}`));
const ORG_SUBJECT = '/CN=Example Org/O=Example Org/organizationIdentifier=NTRGB-12345678';

const CASES: Record<string, Case> = {
  clean: {},
  cleanRsa: { key: 'rsa2048' },
  legacy: { ext: { certificatePolicies: '2.23.140.1.5.1.1' } },
  strict826: { days: 826 },
  strict824: { days: 824 },
  noPolicy: { ext: { certificatePolicies: null } },
  twoPolicies: { ext: { certificatePolicies: `${STRICT_MAILBOX},2.23.140.1.5.4.3` } },
  noKeyUsage: { ext: { keyUsage: null } },
  keyEnciphermentOnly: { key: 'rsa2048', ext: { keyUsage: 'critical,keyEncipherment' } },
  nonRepudiationOnly: { ext: { keyUsage: 'critical,nonRepudiation' } },
  nonRepudiationOnlyPrivate: {
    ext: { keyUsage: 'critical,nonRepudiation', certificatePolicies: null },
  },
  ecKeyEncipherment: { ext: { keyUsage: 'critical,digitalSignature,keyEncipherment' } },
  keyCertSign: { ext: { keyUsage: 'critical,digitalSignature,keyCertSign' } },
  rsaDualUseStrict: {
    key: 'rsa2048',
    ext: { keyUsage: 'critical,digitalSignature,keyEncipherment' },
  },
  rsaDataEnciphermentStrict: {
    key: 'rsa2048',
    ext: { keyUsage: 'critical,digitalSignature,keyEncipherment,dataEncipherment' },
  },
  rsaDataEnciphermentMultipurpose: {
    key: 'rsa2048',
    ext: {
      keyUsage: 'critical,digitalSignature,keyEncipherment,dataEncipherment',
      certificatePolicies: '2.23.140.1.5.1.2',
    },
  },
  noEku: { ext: { extendedKeyUsage: null } },
  noEkuPrivate: { ext: { extendedKeyUsage: null, certificatePolicies: null } },
  ekuServerAuth: { ext: { extendedKeyUsage: 'serverAuth' } },
  ekuAny: { ext: { extendedKeyUsage: 'emailProtection,anyExtendedKeyUsage' } },
  ekuClientAuthStrict: { ext: { extendedKeyUsage: 'emailProtection,clientAuth' } },
  ekuClientAuthMultipurpose: {
    ext: {
      extendedKeyUsage: 'emailProtection,clientAuth',
      certificatePolicies: '2.23.140.1.5.1.2',
    },
  },
  rsa1024: { key: 'rsa1024' },
  rsa2052: { key: 'rsa2052' },
  rsaPssKey: { key: 'rsapss' },
  secp256k1: { key: 'secp256k1' },
  ed25519: { key: 'ed25519' },
  x25519: { x25519: true },
  sha1: { md: '-sha1' },
  md5: { md: '-md5' },
  sha224: { md: '-sha224' },
  pss: { sigopts: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:digest'] },
  pssSalt20: { sigopts: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:20'] },
  noSan: { ext: { subjectAltName: null } },
  sanWithoutEmail: { ext: { subjectAltName: 'DNS:example.com' } },
  subjectEmailOnlyPrivate: {
    ext: { subjectAltName: null, certificatePolicies: null },
    subj: '/CN=Legacy Sender/emailAddress=legacy@example.com',
  },
  subjectEmailNotInSan: { subj: '/CN=news@example.com/emailAddress=info@example.com' },
  cnNotInSan: { subj: '/CN=info@example.com' },
  mailboxWithOrganization: { subj: '/CN=news@example.com/O=Example Org/C=GB' },
  mailboxCnName: { subj: '/CN=News Desk' },
  organizationClean: { ext: { certificatePolicies: '2.23.140.1.5.2.3' }, subj: ORG_SUBJECT },
  organizationNoO: { ext: { certificatePolicies: '2.23.140.1.5.2.3' } },
  organizationWithName: {
    ext: { certificatePolicies: '2.23.140.1.5.2.3' },
    subj: `${ORG_SUBJECT}/GN=Ann/SN=Lee`,
  },
  organizationStreetStrict: {
    ext: { certificatePolicies: '2.23.140.1.5.2.3' },
    subj: `${ORG_SUBJECT}/street=1 High Street/L=London/C=GB`,
  },
  organizationStreetMultipurpose: {
    ext: { certificatePolicies: '2.23.140.1.5.2.2' },
    subj: `${ORG_SUBJECT}/street=1 High Street/L=London/C=GB`,
  },
  sponsorNoPersonalName: { ext: { certificatePolicies: '2.23.140.1.5.3.3' }, subj: ORG_SUBJECT },
  sponsorClean: {
    ext: { certificatePolicies: '2.23.140.1.5.3.3' },
    subj: `${ORG_SUBJECT}/GN=Ann/SN=Lee`,
  },
  individualWithOrganization: {
    ext: { certificatePolicies: '2.23.140.1.5.4.2' },
    subj: '/CN=Ann Lee/GN=Ann/SN=Lee/O=Example Org',
  },
  malformedEku: { ext: { extendedKeyUsage: null, '2.5.29.37': 'DER:05:00' } },
  caTrue: { ext: { basicConstraints: 'critical,CA:TRUE' } },
  noAia: { ext: { authorityInfoAccess: null } },
  noCrl: { ext: { crlDistributionPoints: null } },
  noCrlPrivate: { ext: { crlDistributionPoints: null, certificatePolicies: null } },
  underServerAuthIntermediate: { issuer: 'intServer' },
  selfSigned: { issuer: 'self', ext: { authorityKeyIdentifier: null } },
  ...Object.fromEntries(
    POLICY_OIDS.map((oid) => [`policy ${oid}`, { ext: { certificatePolicies: oid } }]),
  ),
};

const CONFIG_HEAD = `[ req ]
distinguished_name = req_dn
string_mask = utf8only
[ req_dn ]
[ v3_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_int ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
extendedKeyUsage = emailProtection,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_int_server ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

const section = (name: string): string => `case_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

function extensionSection(name: string, c: Case): string {
  const ext: Record<string, string | null> = { ...BASE_EXT, ...c.ext };
  const lines = Object.entries(ext)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k} = ${v}`);
  return `[ ${section(name)} ]\n${lines.join('\n')}\n`;
}

let dir: string;
const ders = new Map<string, Buffer>();

async function openssl(...args: string[]): Promise<void> {
  await runOk('openssl', args);
}

async function derOf(pemPath: string): Promise<Buffer> {
  return certificatesFrom(await readFile(pemPath, 'utf8'))[0];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smime-lint-'));
  const p = (f: string): string => join(dir, f);
  const cfg = ['-config', p('openssl.cnf')];
  await writeFile(
    p('openssl.cnf'),
    CONFIG_HEAD +
      Object.entries(CASES)
        .map(([n, c]) => extensionSection(n, c))
        .join(''),
  );
  const keyNames = [...Object.keys(KEYS), 'root', 'int', 'intServer'];
  await Promise.all(
    keyNames.map((k) =>
      openssl('genpkey', ...(KEYS[k as KeyName] ?? KEYS.rsa2048), '-out', p(`${k}.key`)),
    ),
  );
  await openssl('pkey', '-in', p('x25519.key'), '-pubout', '-out', p('x25519.pub'));
  // prettier-ignore
  await openssl(
    'req', '-x509', '-new', ...cfg, '-extensions', 'v3_root', '-key', p('root.key'),
    '-subj', '/CN=Lint Test Root', '-days', '3650', '-sha256', '-out', p('root.pem'),
  );
  await Promise.all(
    (
      [
        ['int', 'Lint Test Intermediate', 'v3_int'],
        ['intServer', 'Lint Test TLS Intermediate', 'v3_int_server'],
      ] as const
    ).map(async ([name, cn, ext]) => {
      // prettier-ignore
      await openssl(
        'req', '-new', ...cfg, '-key', p(`${name}.key`), '-subj', `/CN=${cn}`,
        '-out', p(`${name}.csr`),
      );
      // prettier-ignore
      await openssl(
        'x509', '-req', '-in', p(`${name}.csr`), '-CA', p('root.pem'), '-CAkey', p('root.key'),
        '-days', '3000', '-sha256', '-extfile', p('openssl.cnf'), '-extensions', ext,
        '-out', p(`${name}.pem`),
      );
    }),
  );
  for (const name of ['root', 'int', 'intServer']) ders.set(name, await derOf(p(`${name}.pem`)));

  await Promise.all(
    Object.entries(CASES).map(async ([name, c], i) => {
      const file = `leaf${i}`;
      const key = p(`${c.key ?? 'p256'}.key`);
      const subj = c.subj ?? '/CN=news@example.com';
      const days = String(c.days ?? 365);
      if (c.issuer === 'self') {
        // prettier-ignore
        await openssl(
          'req', '-x509', '-new', ...cfg, '-extensions', section(name), '-key', key,
          '-subj', subj, '-days', days, '-sha256', '-out', p(`${file}.pem`),
        );
      } else {
        const issuer = c.issuer ?? 'int';
        await openssl('req', '-new', ...cfg, '-key', key, '-subj', subj, '-out', p(`${file}.csr`));
        // prettier-ignore
        await openssl(
          'x509', '-req', '-in', p(`${file}.csr`), '-CA', p(`${issuer}.pem`),
          '-CAkey', p(`${issuer}.key`), '-days', days, c.md ?? '-sha256',
          ...(c.sigopts ?? []).flatMap((o) => ['-sigopt', o]),
          ...(c.x25519 ? ['-force_pubkey', p('x25519.pub')] : []),
          '-extfile', p('openssl.cnf'), '-extensions', section(name), '-out', p(`${file}.pem`),
        );
      }
      ders.set(name, await derOf(p(`${file}.pem`)));
    }),
  );
});

after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

function der(name: string): Buffer {
  const d = ders.get(name);
  assert.ok(d, `no certificate ${name}`);
  return d;
}

/** Lint a case with the intermediate that issued it (none for a self-signed one). */
function lint(name: string, chain?: Buffer[], now?: Date): LintReport {
  const c = CASES[name];
  const issuer = c?.issuer ?? 'int';
  return lintSmimeCertificate(der(name), chain ?? (issuer === 'self' ? [] : [der(issuer)]), now);
}

/** The findings as sorted "code:severity" strings. */
const codes = (r: LintReport): string[] => r.findings.map((f) => `${f.code}:${f.severity}`).sort();

function expectFindings(name: string, expected: string[], chain?: Buffer[], now?: Date): void {
  const report = lint(name, chain, now);
  assert.deepEqual(codes(report), [...expected].sort(), JSON.stringify(report.findings, null, 2));
  for (const f of report.findings) {
    assert.match(f.code, /^[a-z0-9_]+$/);
    assert.ok(f.message.length > 20 && f.reference.length > 4, JSON.stringify(f));
  }
}

describe('a clean certificate', () => {
  test('strict mailbox-validated P-256 and RSA-2048: no findings at all', () => {
    for (const name of ['clean', 'cleanRsa']) {
      const report = lint(name);
      assert.deepEqual(report.findings, [], name);
      assert.deepEqual(report.profile, {
        type: 'mailbox',
        generation: 'strict',
        policyOid: STRICT_MAILBOX,
      });
    }
  });

  test('organization- and sponsor-validated certificates with the fields they need', () => {
    expectFindings('organizationClean', []);
    expectFindings('sponsorClean', []);
  });
});

describe('profile', () => {
  test('all twelve reserved policy OIDs', () => {
    const types = ['mailbox', 'organization', 'sponsor', 'individual'];
    const generations = ['legacy', 'multipurpose', 'strict'];
    for (const oid of POLICY_OIDS) {
      const [t, g] = oid.split('.').slice(5).map(Number);
      assert.deepEqual(
        lint(`policy ${oid}`).profile,
        { type: types[t - 1], generation: generations[g - 1], policyOid: oid },
        oid,
      );
    }
  });

  test('no BR policy: profile null and a notice', () => {
    const report = lint('noPolicy');
    assert.deepEqual(report.profile, { type: null, generation: null, policyOid: null });
    assert.deepEqual(codes(report), ['no_smime_br_policy:notice']);
  });

  test('two reserved policies: a warning, the first one counts', () => {
    const report = lint('twoPolicies');
    assert.equal(report.profile.policyOid, STRICT_MAILBOX);
    assert.deepEqual(codes(report), ['multiple_smime_br_policies:warning']);
  });

  test('legacy generation: a warning', () => {
    expectFindings('legacy', ['legacy_generation:warning']);
  });
});

describe('validity', () => {
  test('826 days is too long for strict; 824 is not', () => {
    expectFindings('strict826', ['validity_too_long:warning']);
    expectFindings('strict824', []);
  });

  test('expired and not yet valid are errors', () => {
    const far = new Date(Date.now() + 400 * 86_400_000);
    expectFindings('clean', ['certificate_expired:error'], undefined, far);
    const past = new Date(Date.now() - 86_400_000);
    expectFindings('clean', ['certificate_not_yet_valid:error'], undefined, past);
  });
});

describe('keyUsage', () => {
  test('missing: warning', () => {
    expectFindings('noKeyUsage', ['key_usage_missing:warning']);
  });

  test('no digitalSignature: error; nonRepudiation alone is a notice outside the BR', () => {
    expectFindings('keyEnciphermentOnly', ['key_usage_no_digital_signature:error']);
    expectFindings('nonRepudiationOnly', ['key_usage_no_digital_signature:error']);
    expectFindings('nonRepudiationOnlyPrivate', [
      'key_usage_no_digital_signature:notice',
      'no_smime_br_policy:notice',
    ]);
  });

  test('EC key with keyEncipherment: error', () => {
    expectFindings('ecKeyEncipherment', ['key_usage_ec_key_encipherment:error']);
  });

  test('a bit no S/MIME certificate may have: error', () => {
    expectFindings('keyCertSign', ['key_usage_forbidden_bit:error']);
  });

  test('RSA: keyEncipherment is fine in strict, dataEncipherment only outside strict', () => {
    expectFindings('rsaDualUseStrict', []);
    expectFindings('rsaDataEnciphermentStrict', ['key_usage_strict_data_encipherment:warning']);
    expectFindings('rsaDataEnciphermentMultipurpose', []);
  });
});

describe('extKeyUsage', () => {
  test('missing: error under the BR, nothing for a private CA (RFC 8550 allows it)', () => {
    expectFindings('noEku', ['ext_key_usage_missing:error']);
    expectFindings('noEkuPrivate', ['no_smime_br_policy:notice']);
  });

  test('serverAuth only: no emailProtection and a forbidden purpose', () => {
    expectFindings('ekuServerAuth', [
      'ext_key_usage_no_email_protection:error',
      'ext_key_usage_forbidden:error',
    ]);
  });

  test('anyExtendedKeyUsage: error', () => {
    expectFindings('ekuAny', ['ext_key_usage_any:error']);
  });

  test('a second purpose: warning in strict, fine in multipurpose', () => {
    expectFindings('ekuClientAuthStrict', ['ext_key_usage_strict_extra:warning']);
    expectFindings('ekuClientAuthMultipurpose', []);
  });
});

describe('key', () => {
  test('RSA-1024: error', () => {
    expectFindings('rsa1024', ['rsa_key_too_small:error']);
  });

  test('RSA-2052: not a multiple of 8, warning', () => {
    expectFindings('rsa2052', ['rsa_key_size_not_multiple_of_8:warning']);
  });

  test('RSASSA-PSS key encoding: warning', () => {
    expectFindings('rsaPssKey', ['rsa_pss_key:warning']);
  });

  test('secp256k1: error', () => {
    expectFindings('secp256k1', ['ec_curve_not_allowed:error']);
  });

  test('Ed25519: notice', () => {
    expectFindings('ed25519', ['eddsa_key:notice']);
  });

  test('X25519: error', () => {
    expectFindings('x25519', ['key_algorithm_not_allowed:error']);
  });
});

describe('signature algorithm', () => {
  test('SHA-1 and MD5: errors', () => {
    expectFindings('sha1', ['signature_sha1:error']);
    expectFindings('md5', ['signature_md5:error']);
  });

  test('SHA-224: warning', () => {
    expectFindings('sha224', ['signature_algorithm_not_allowed:warning']);
  });

  test('RSASSA-PSS: the BR encoding is fine, another salt length is a warning', () => {
    expectFindings('pss', []);
    expectFindings('pssSalt20', ['rsa_pss_parameters:warning']);
  });
});

describe('names', () => {
  test('no rfc822Name in the subjectAltName: error', () => {
    expectFindings('noSan', ['san_no_mailbox:error']);
    expectFindings('sanWithoutEmail', ['san_no_mailbox:error']);
  });

  test('address only in the subject emailAddress of a private certificate: warning', () => {
    expectFindings('subjectEmailOnlyPrivate', [
      'san_no_mailbox:warning',
      'no_smime_br_policy:notice',
    ]);
  });

  test('subject addresses missing from the subjectAltName: warning', () => {
    expectFindings('subjectEmailNotInSan', ['subject_email_not_in_san:warning']);
    expectFindings('cnNotInSan', ['subject_email_not_in_san:warning']);
  });

  test('mailbox-validated: no organization fields, common name must be the address', () => {
    expectFindings('mailboxWithOrganization', ['subject_attribute_not_allowed:warning']);
    expectFindings('mailboxCnName', ['subject_cn_not_mailbox:warning']);
  });

  test('organization-validated: organizationName required, personal names not allowed', () => {
    expectFindings('organizationNoO', ['subject_attribute_missing:warning']);
    expectFindings('organizationWithName', ['subject_attribute_not_allowed:warning']);
  });

  test('streetAddress: not in strict, allowed in multipurpose', () => {
    expectFindings('organizationStreetStrict', ['subject_attribute_not_allowed:warning']);
    expectFindings('organizationStreetMultipurpose', []);
  });

  test('sponsor-validated strict needs a personal name; individual-validated no organization', () => {
    expectFindings('sponsorNoPersonalName', ['subject_attribute_missing:warning']);
    expectFindings('individualWithOrganization', ['subject_attribute_not_allowed:warning']);
  });
});

describe('other extensions', () => {
  test('cA TRUE on the signing certificate: error', () => {
    expectFindings('caTrue', ['leaf_is_ca:error']);
  });

  test('no caIssuers: notice; no CRL: warning under the BR, notice otherwise', () => {
    expectFindings('noAia', ['aia_ca_issuers_missing:notice']);
    expectFindings('noCrl', ['crl_distribution_points_missing:warning']);
    expectFindings('noCrlPrivate', [
      'crl_distribution_points_missing:notice',
      'no_smime_br_policy:notice',
    ]);
  });
});

describe('malformed parts', () => {
  test('an extKeyUsage that is not a SEQUENCE: warning, the other checks still run', () => {
    expectFindings('malformedEku', ['malformed_extension:warning']);
  });
});

describe('chain', () => {
  test('no intermediates uploaded: notice', () => {
    expectFindings('clean', ['chain_missing:notice'], []);
  });

  test('only the root uploaded: the issuer is not found', () => {
    expectFindings('clean', ['chain_issuer_not_found:warning'], [der('root')]);
  });

  test('intermediate and root: fine; an unrelated extra certificate: notice', () => {
    expectFindings('clean', [], [der('root'), der('int')]);
    expectFindings('clean', ['chain_certificate_unused:notice'], [der('int'), der('intServer')]);
  });

  test('an unreadable chain certificate: warning', () => {
    expectFindings(
      'clean',
      ['chain_certificate_unreadable:warning'],
      [der('int'), Buffer.from('junk')],
    );
  });

  test('an intermediate without emailProtection: error', () => {
    expectFindings('underServerAuthIntermediate', ['intermediate_no_email_protection:error']);
  });

  test('self-signed: notice', () => {
    expectFindings('selfSigned', ['self_signed_certificate:notice']);
  });
});

describe('unreadable input', () => {
  test('garbage, a truncated certificate and an empty buffer: one error, never a throw', () => {
    const clean = der('clean');
    for (const blob of [
      Buffer.from('not a certificate'),
      clean.subarray(0, 200),
      Buffer.alloc(0),
    ]) {
      const report = lintSmimeCertificate(blob, []);
      assert.deepEqual(codes(report), ['unreadable_certificate:error']);
      assert.deepEqual(report.profile, { type: null, generation: null, policyOid: null });
    }
  });

  test('random byte changes never make the linter throw', () => {
    const clean = der('clean');
    let seed = 1;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const blob = Buffer.from(clean);
      for (let j = 0; j < 1 + random(3); j++) blob[random(blob.length)] = random(256);
      const report = lintSmimeCertificate(blob, [blob, Buffer.from(blob.subarray(0, 100))]);
      assert.ok(Array.isArray(report.findings));
      for (const f of report.findings)
        assert.ok(['error', 'warning', 'notice'].includes(f.severity));
    }
  });
});
