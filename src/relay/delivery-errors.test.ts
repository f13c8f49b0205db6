import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryError } from '../plugin/contract';
import {
  classifyDeliveryError,
  describeDeliveryError,
  isRecipientRefusal,
} from './delivery-errors';

/** An error shaped like the ones nodemailer throws for an SMTP reply. */
function smtpError(responseCode: number, response?: string): Error {
  return Object.assign(new Error(`Message failed: ${response ?? responseCode}`), {
    code: 'EMESSAGE',
    responseCode,
    ...(response === undefined ? {} : { response }),
  });
}

/** An error shaped like a failed connection (Node's net errors, nodemailer's wrappers). */
function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:2525`), { code });
}

describe('delivery error classification', () => {
  it("keeps a transport's own verdict and reply from a DeliveryError", () => {
    const permanent = classifyDeliveryError(
      new DeliveryError('provider said the address is suppressed', true, '422 suppressed'),
    );
    assert.deepEqual(permanent, {
      permanent: true,
      message: 'provider said the address is suppressed',
      reply: '422 suppressed',
    });
    const transient = classifyDeliveryError(new DeliveryError('rate limited', false));
    assert.equal(transient.permanent, false);
    assert.equal(transient.message, 'rate limited');
    assert.equal(transient.reply, undefined);
  });

  it('lets a DeliveryError decide even with a code that would say otherwise', () => {
    const e = Object.assign(new DeliveryError('quota exceeded for good', true), {
      code: 'ECONNRESET',
      responseCode: 451,
    });
    assert.equal(classifyDeliveryError(e).permanent, true);
  });

  for (const code of [421, 451, 452]) {
    it(`treats an upstream ${code} as transient and keeps its reply`, () => {
      const reply = `${code} 4.3.0 try again later`;
      const c = classifyDeliveryError(smtpError(code, reply));
      assert.equal(c.permanent, false);
      assert.equal(c.reply, reply);
      assert.match(c.message, new RegExp(`answered ${code} \\(try again later\\)`));
    });
  }

  for (const code of [550, 554]) {
    it(`treats an upstream ${code} as permanent and keeps its reply text`, () => {
      const reply = `${code} 5.7.1 Message rejected: listed at policy.example`;
      const c = classifyDeliveryError(smtpError(code, reply));
      assert.equal(c.permanent, true);
      assert.equal(c.reply, reply);
      assert.match(c.message, new RegExp(`answered ${code} \\(refused\\)`));
    });
  }

  it('folds a multi-line reply into one line for the attempt log', () => {
    const c = classifyDeliveryError(smtpError(550, '550-5.1.1 first line\r\n550 5.1.1 second'));
    assert.equal(c.reply, '550-5.1.1 first line 550 5.1.1 second');
  });

  it('uses the reply code as the reply when the upstream gave no text', () => {
    const c = classifyDeliveryError(smtpError(554));
    assert.equal(c.permanent, true);
    assert.equal(c.reply, '554');
  });

  for (const code of ['ECONNREFUSED', 'ETIMEDOUT', 'ECONNECTION']) {
    it(`treats a network failure (${code}) as transient`, () => {
      const c = classifyDeliveryError(networkError(code));
      assert.equal(c.permanent, false);
      assert.match(c.message, /could not be reached/);
      assert.match(c.message, new RegExp(code));
      assert.equal(c.reply, undefined);
    });
  }

  it('treats unknown errors as transient: retrying is safe, giving up loses mail', () => {
    for (const e of [
      new Error('something odd happened'),
      Object.assign(new Error('weird'), { code: 'EWEIRD' }),
      Object.assign(new Error('reply code out of range'), { responseCode: 250 }),
      'a thrown string',
      undefined,
      null,
    ]) {
      const c = classifyDeliveryError(e);
      assert.equal(c.permanent, false, `verdict for ${String(e)}`);
      assert.match(c.message, /^delivery failed: /);
    }
  });

  it('describes an error for the API exactly as it classifies it', () => {
    const e = smtpError(550, '550 no such user');
    assert.deepEqual(describeDeliveryError(e), classifyDeliveryError(e));
  });
});

describe('recipient refusals (the address itself is bad)', () => {
  const cases: [string, string | undefined, boolean][] = [
    ['delivery_rejected', '550 5.1.1 <gone@example.net>: user unknown', true],
    ['delivery_rejected', '550-5.1.1 The email account does not exist', true],
    ['delivery_rejected', '553 5.1.3 bad address syntax', true],
    ['delivery_rejected', '550 5.2.1 mailbox disabled', true],
    ['delivery_rejected', '550 5.7.1 rejected by policy (DMARC)', false],
    ['delivery_rejected', '535 5.7.8 authentication failed', false],
    ['delivery_rejected', '554 5.2.2 mailbox full', false],
    ['delivery_rejected', '550 mailbox unavailable', false],
    ['delivery_rejected', 'SparkPost answered 401: unauthorized 15.1.1', false],
    ['delivery_rejected', undefined, false],
    ['delivery_expired', '451 5.1.1 odd but not final', false],
    ['no_certificate', '550 5.1.1', false],
  ];
  for (const [code, reply, expected] of cases) {
    it(`${code} ${JSON.stringify(reply)} → ${expected}`, () => {
      assert.equal(isRecipientRefusal(code, reply), expected);
    });
  }
});
