import { verifyMessage, type VerificationReport } from '../smime';
import { parseArgs } from 'node:util';
import { usageErrors } from './args';
import { readInput } from './io';

export const VERIFY_USAGE = `Usage: smime-relay verify [--in FILE] [--ca FILE]... [--json]

Verifies an S/MIME signed message (detached or opaque) read from stdin or --in. Exits 0 only
when the signature is valid, From: matches the certificate and, with --ca, the chain is trusted.`;

function describe(r: VerificationReport): string {
  const lines = [r.valid ? 'valid: yes' : 'valid: NO'];
  if (r.format) lines.push(`format: ${r.format}`);
  if (r.signer) {
    lines.push(`signer: ${r.signer.subject}`);
    lines.push(`addresses: ${r.signer.emailAddresses.join(', ') || '(none)'}`);
    lines.push(`issuer: ${r.signer.issuer}`);
    lines.push(`not after: ${r.signer.notAfter}`);
  }
  if (r.digestAlgorithm) lines.push(`digest: ${r.digestAlgorithm}`);
  if (r.signatureAlgorithm) lines.push(`signature: ${r.signatureAlgorithm}`);
  if (r.signingTime) lines.push(`signed at: ${r.signingTime}`);
  lines.push(
    `From: ${r.from ?? '(none)'} ${r.fromMatches ? '(matches the certificate)' : '(does not match)'}`,
  );
  lines.push(
    `chain: ${r.chainTrusted === null ? 'not checked (no --ca)' : r.chainTrusted ? 'trusted' : 'NOT trusted'}`,
  );
  return lines.join('\n') + '\n';
}

export async function verifyCommand(argv: string[]): Promise<number> {
  const o = usageErrors(
    () =>
      parseArgs({
        args: argv,
        strict: true,
        options: {
          in: { type: 'string' },
          ca: { type: 'string', multiple: true },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      }).values,
  );
  if (o.help) {
    console.log(VERIFY_USAGE);
    return 0;
  }
  const anchors = o.ca?.map((f) => readInput(f, 'CA file'));
  const report = await verifyMessage(readInput(o.in, 'message file'), { trustAnchors: anchors });
  process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : describe(report));
  if (!report.valid) {
    const first = report.errors[0];
    if (first) process.stderr.write(`error [${first.code}]: ${first.message}\n`);
    return 4;
  }
  return 0;
}
