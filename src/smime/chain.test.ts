/**
 * Certificate path checks: verifyChain() (pkijs' chain validation engine plus the
 * pathLenConstraint check) and the structural check of an uploaded chain in
 * loadSigningIdentity(), on small P-256 PKIs built with the openssl CLI: a good chain, an
 * intermediate without the CA flag, one without keyCertSign, a pathLen:0 intermediate that
 * issued another intermediate, a name-chaining mismatch, a forged intermediate, an expired
 * intermediate, a wrong trust anchor and a loop of cross-certificates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createChainPki, type ChainPki, type Made } from '../../test/helpers/chain-pki';
import { RelayError } from '../plugin/relay-error';
import type { CertificateInfo } from './certificate';
import { verifyChain } from './chain';
import { loadSigningIdentity } from './identity';
import { signMessage } from './sign';
import { verifyMessage } from './verify';

let pki: ChainPki;
let made: Record<string, Made>;
let cert: (name: string) => CertificateInfo;
let pems: (...names: string[]) => string[];
before(async () => {
  pki = await createChainPki();
  ({ made, cert, pems } = pki);
  NOW = pki.madeAt;
  LATER = new Date(NOW.getTime() + 30 * 86_400_000);
});
after(() => pki?.remove());

/** A moment after every certificate above was made (their notBefore is the second they were). */
let NOW: Date;
let LATER: Date;

/** verifyChain with the pool and anchors given by name. */
const chainVerdict = (
  leaf: string,
  pool: string[],
  anchors: string[] = ['root'],
  now?: Date,
): Promise<string | undefined> =>
  verifyChain(cert(leaf), [cert(leaf), ...pool.map(cert)], anchors.map(cert), now ?? NOW);

/** loadSigningIdentity from PEM with the chain given by name; the refusal message or 'ok'. */
function upload(leaf: string, chain: string[]): string {
  try {
    loadSigningIdentity({
      certificate: made[leaf].pem,
      privateKey: made[leaf].keyPem,
      chain: pems(...chain),
    });
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof RelayError, String(e));
    assert.equal(e.code, 'chain_broken', e.message);
    return e.message;
  }
}
const broken = (sentence: string): string => `the certificate chain is broken: ${sentence}`;

describe('verifyChain (pkijs path validation) and the upload check', () => {
  test('a good root → intermediate → leaf chain is trusted and uploads', async () => {
    assert.equal(await chainVerdict('leaf', ['int']), undefined);
    assert.equal(await chainVerdict('leaf', ['int', 'root']), undefined, 'root also in the pool');
    assert.equal(await chainVerdict('leaf', ['int'], ['rogue', 'root']), undefined);
    assert.equal(await chainVerdict('leaf', [], ['int']), undefined, 'intermediate as anchor');
    assert.equal(await chainVerdict('leaf', [], ['leaf']), undefined, 'signer as anchor');
    assert.equal(upload('leaf', ['int']), 'ok');
    assert.equal(upload('leaf', ['int', 'root']), 'ok');
    assert.equal(upload('leaf', []), 'ok', 'no chain at all');
    const id = loadSigningIdentity({
      certificate: made.leaf.pem,
      privateKey: made.leaf.keyPem,
      chain: pems('int', 'root'),
    });
    assert.deepEqual(
      id.chain.map((c) => c.subject),
      ['CN=Chain Test Intermediate'],
    );
  });

  test("the signer's own validity is left to verifyMessage (certificate_expired)", async () => {
    const afterLeaf = new Date(cert('leaf').notAfter.getTime() + 86_400_000);
    assert.ok(afterLeaf < cert('int').notAfter, 'the intermediate outlives the leaf');
    assert.equal(await chainVerdict('leaf', ['int'], ['root'], afterLeaf), undefined);
  });

  test('an intermediate without the CA flag', async () => {
    const sentence = 'the intermediate CN=Not A CA is not a CA certificate';
    assert.equal(await chainVerdict('leafNotCa', ['notCa']), sentence);
    assert.equal(upload('leafNotCa', ['notCa']), broken(sentence));
    // A certificate the store accepted before this rule still loads for signing.
    const stored = loadSigningIdentity(
      { certificate: made.leafNotCa.pem, privateKey: made.leafNotCa.keyPem, chain: pems('notCa') },
      { checkChain: false },
    );
    assert.deepEqual(
      stored.chain.map((c) => c.subject),
      ['CN=Not A CA'],
    );
  });

  test('an intermediate whose keyUsage lacks keyCertSign', async () => {
    const sentence = 'the intermediate CN=No KeyCertSign has no keyCertSign key usage';
    assert.equal(await chainVerdict('leafNoKcs', ['noKcs']), sentence);
    assert.equal(upload('leafNoKcs', ['noKcs']), broken(sentence));
  });

  test('a pathLen:0 intermediate that issued another intermediate', async () => {
    const sentence =
      'the path length constraint of CN=Chain Test Intermediate (pathLenConstraint 0) is exceeded';
    assert.equal(await chainVerdict('leafSub', ['sub', 'int']), sentence);
    assert.equal(upload('leafSub', ['sub', 'int']), broken(sentence));
    assert.equal(upload('leafSub', ['sub', 'int', 'root']), broken(sentence));
    // A pathLen:0 intermediate as the trust anchor still counts the intermediate below it;
    // trusting the sub-intermediate leaves it off the path.
    assert.equal(await chainVerdict('leafSub', ['sub'], ['int']), sentence);
    assert.equal(await chainVerdict('leafSub', [], ['sub']), undefined);
  });

  test('a name-chaining mismatch: issued by the intermediate key under another name', async () => {
    const sentence =
      'the issuer name of CN=Leaf Under Alias (CN=Alias Intermediate) does not match the ' +
      'subject of CN=Chain Test Intermediate, whose key signed it';
    assert.equal(await chainVerdict('leafAlias', ['int']), sentence);
    assert.equal(upload('leafAlias', ['int']), broken(sentence));
    assert.equal(await chainVerdict('leafAlias', ['alias']), undefined, 'with its own issuer');
    assert.equal(upload('leafAlias', ['alias']), 'ok');
  });

  test('a forged intermediate: the right name, another key', async () => {
    const sentence =
      'the signature on CN=Chain Test Leaf does not verify with the key of CN=Chain Test Intermediate';
    assert.equal(await chainVerdict('leaf', ['forged']), sentence);
    assert.equal(upload('leaf', ['forged']), broken(sentence));
  });

  test('an expired intermediate: untrusted in verify, not judged at upload', async () => {
    const expiry = cert('short').notAfter.toISOString();
    assert.equal(await chainVerdict('leafShort', ['short']), undefined, 'while it is valid');
    assert.equal(
      await chainVerdict('leafShort', ['short'], ['root'], LATER),
      `the intermediate CN=Short-Lived Intermediate expired on ${expiry}`,
    );
    assert.equal(upload('leafShort', ['short']), 'ok');
    assert.equal(
      await chainVerdict('leafShort', [], ['short'], LATER),
      `the trust anchor CN=Short-Lived Intermediate expired on ${expiry}`,
    );
  });

  test('a wrong trust anchor', async () => {
    assert.equal(
      await chainVerdict('leaf', ['int'], ['rogue']),
      'no trusted issuer was found for CN=Chain Test Intermediate',
    );
    assert.equal(
      await chainVerdict('leaf', ['int', 'root'], ['rogue']),
      'the root CN=Chain Test Root is not a trust anchor',
    );
    assert.equal(
      await chainVerdict('leaf', [], ['root']),
      'no trusted issuer was found for CN=Chain Test Leaf',
      'intermediate missing',
    );
  });

  test('a cross-certificate whose issuer is absent does not hide the good path', async () => {
    assert.equal(await chainVerdict('leaf', ['intCross', 'int']), undefined);
    assert.equal(
      await chainVerdict('leaf', ['intCross']),
      'no trusted issuer was found for CN=Chain Test Intermediate',
    );
  });

  test('a loop of cross-certificates ends with a verdict', async () => {
    assert.equal(
      await chainVerdict('leafLoop', ['aByB', 'bByA']),
      'the certificate chain is too long or loops',
    );
  });
});

describe('verifyMessage reports the verdict as chain_untrusted', () => {
  test('a message signed under the short-lived intermediate, judged after it expired', async () => {
    const identity = loadSigningIdentity({
      certificate: made.leafShort.pem,
      privateKey: made.leafShort.keyPem,
      chain: pems('short'),
    });
    const raw = Buffer.from(
      'From: news@example.com\r\nTo: a@example.net\r\nSubject: chain\r\n' +
        `Date: ${NOW.toUTCString()}\r\nMIME-Version: 1.0\r\n` +
        'Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n',
    );
    const signed = await signMessage(raw, identity);
    const good = await verifyMessage(signed, { trustAnchors: pems('root'), now: NOW });
    assert.deepEqual(good.errors, []);
    assert.equal(good.chainTrusted, true);
    const late = await verifyMessage(signed, { trustAnchors: pems('root'), now: LATER });
    assert.equal(late.chainTrusted, false);
    assert.deepEqual(late.errors, [
      {
        code: 'chain_untrusted',
        message: `the intermediate CN=Short-Lived Intermediate expired on ${cert('short').notAfter.toISOString()}`,
      },
    ]);
  });
});
