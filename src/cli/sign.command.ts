import { loadSigningIdentity, signMessage, type HashName, type SignatureFormat } from '../smime';
import { RelayError } from '../plugin/relay-error';
import { parseArgs } from 'node:util';
import { usageErrors } from './args';
import { readInput, readPassword, writeOutput } from './io';

export const SIGN_USAGE = `Usage: smime-relay sign --cert FILE [--key FILE] [--chain FILE]
                        [--password-env NAME | --password-file FILE]
                        [--in FILE] [--out FILE] [--hash sha256|sha384|sha512] [--pss]
                        [--format detached|opaque]

Signs one RFC 5322 message. --cert takes a PKCS#12 (.p12/.pfx) file, or a PEM certificate
with --key. The message is read from stdin and written to stdout unless --in/--out are given.`;

const looksLikePem = (b: Buffer): boolean =>
  b.subarray(0, 4096).toString('latin1').includes('-----BEGIN');

export async function signCommand(argv: string[]): Promise<number> {
  const o = usageErrors(
    () =>
      parseArgs({
        args: argv,
        strict: true,
        options: {
          cert: { type: 'string' },
          key: { type: 'string' },
          chain: { type: 'string' },
          'password-env': { type: 'string' },
          'password-file': { type: 'string' },
          in: { type: 'string' },
          out: { type: 'string' },
          hash: { type: 'string' },
          pss: { type: 'boolean', default: false },
          format: { type: 'string', default: 'detached' },
          help: { type: 'boolean', short: 'h' },
        },
      }).values,
  );
  if (o.help) {
    console.log(SIGN_USAGE);
    return 0;
  }
  if (!o.cert) throw new RelayError('usage', '--cert FILE is required');
  if (o.hash !== undefined && !['sha256', 'sha384', 'sha512'].includes(o.hash)) {
    throw new RelayError('usage', `--hash must be sha256, sha384 or sha512, not "${o.hash}"`);
  }
  if (!['detached', 'opaque'].includes(o.format as string)) {
    throw new RelayError('usage', `--format must be detached or opaque, not "${o.format}"`);
  }
  const password = readPassword(o['password-env'], o['password-file']);
  const cert = readInput(o.cert, 'certificate file');
  const chain = o.chain ? readInput(o.chain, 'chain file') : undefined;
  const identity =
    !o.key && !looksLikePem(cert)
      ? loadSigningIdentity({ pkcs12: cert, password })
      : loadSigningIdentity({
          certificate: cert,
          privateKey: o.key ? readInput(o.key, 'key file') : undefined,
          chain,
          password,
        });
  const message = readInput(o.in, 'message file');
  const signed = await signMessage(message, identity, {
    hash: o.hash as HashName | undefined,
    format: o.format as SignatureFormat,
    rsaPss: o.pss,
  });
  writeOutput(o.out, signed);
  return 0;
}
