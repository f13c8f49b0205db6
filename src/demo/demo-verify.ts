/**
 * The independent check of what the upstream received: `openssl cms -verify` against the
 * demo CA only, with the smimesign purpose (keyUsage and emailProtection checked), and
 * who signed it, read from the signer certificate openssl extracts.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { devNull } from 'node:os';
import { RelayError } from '../plugin/relay-error';
import { openssl } from './openssl-cli';

export interface OpensslVerdict {
  /** The command, to print so a reader can run it again. */
  command: string;
  /** "Verification successful". */
  verdict: string;
  /** The signer: subject, its email addresses and its issuer. */
  signer: string;
}

export function opensslVerifyArgs(caPath: string, emlPath: string): string[] {
  // prettier-ignore
  return [
    'cms', '-verify', '-binary', '-crlfeol', '-purpose', 'smimesign', '-CAfile', caPath,
    '-inform', 'SMIME', '-in', emlPath, '-out', devNull,
  ];
}

/** The CN of a distinguished name as node prints it (one attribute a line), else all of it. */
const commonName = (dn: string): string => /^CN=(.*)$/m.exec(dn)?.[1] ?? dn.split('\n').join(', ');

/** An argument as a POSIX shell reads it back unchanged. */
const shellWord = (arg: string): string =>
  /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

function describeSigner(pem: string): string {
  const cert = new X509Certificate(pem);
  const emails = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('email:'))
    .map((name) => name.slice('email:'.length));
  const who = emails.join(', ') || '(no email address)';
  return `${who} (${commonName(cert.subject)}), issued by ${commonName(cert.issuer)}`;
}

export async function verifyWithOpensslCli(
  emlPath: string,
  caPath: string,
  signerPath: string,
): Promise<OpensslVerdict> {
  const args = opensslVerifyArgs(caPath, emlPath);
  try {
    const result = await openssl([...args, '-signer', signerPath]);
    const verdict = /Verification successful/.exec(result.output)?.[0];
    if (result.code !== 0 || !verdict) {
      const reason = result.output.trim().split('\n').slice(0, 2).join(' ');
      throw new RelayError(
        'bad_signature',
        `openssl cms -verify did not accept ${emlPath} (exit status ${String(result.code)}): ${reason}`,
      );
    }
    return {
      command: ['openssl', ...args].map(shellWord).join(' '),
      verdict,
      signer: describeSigner(readFileSync(signerPath, 'utf8')),
    };
  } finally {
    rmSync(signerPath, { force: true });
  }
}
