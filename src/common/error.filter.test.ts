import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArgumentsHost } from '@nestjs/common';
import { RelayError } from '../plugin/relay-error';
import { describeSafely, ErrorFilter } from './error.filter';

describe('logging unexpected errors', () => {
  it('keeps the first line of each message and the stack frames, never query parameters', () => {
    const cause = new Error('invalid byte sequence for encoding "UTF8": 0x00');
    const e = new Error(
      'Failed query: insert into "certificates" values ($1, $2)\nparams: srk_secret-key,sealed',
      {
        cause,
      },
    );
    const logged = describeSafely(e);
    assert.match(logged, /Failed query: insert into "certificates"/);
    assert.match(logged, /<- Error: invalid byte sequence/);
    assert.match(logged, /\n\s+at /);
    assert.doesNotMatch(logged, /srk_secret-key|params/);
  });
});

describe('the error filter', () => {
  const host = (sink: { status?: number; body?: unknown }) =>
    ({
      switchToHttp: () => ({
        getResponse: () => ({
          status(code: number) {
            sink.status = code;
            return this;
          },
          json(body: unknown) {
            sink.body = body;
          },
        }),
      }),
    }) as unknown as ArgumentsHost;

  it('turns an unexpected error into 500 with a correlation id, logged without secrets', () => {
    const sink: { status?: number; body?: { error: { code: string; message: string } } } = {};
    const filter = new ErrorFilter();
    const logged: string[] = [];
    (filter as unknown as { log: { error: (m: string) => void } }).log = {
      error: (m) => logged.push(m),
    };
    filter.catch(new Error('boom\nparams: srk_secret'), host(sink));
    assert.equal(sink.status, 500);
    assert.equal(sink.body?.error.code, 'internal_error');
    const id = /correlation id ([0-9a-f-]{36})/.exec(sink.body?.error.message ?? '')?.[1];
    assert.ok(id, 'the response names a correlation id');
    assert.equal(logged.length, 1);
    assert.ok(logged[0].includes(id), 'the log line carries the same id');
    assert.doesNotMatch(logged[0] + JSON.stringify(sink.body), /srk_secret/);
  });

  it('maps a RelayError to its table status and code', () => {
    const sink: { status?: number; body?: unknown } = {};
    new ErrorFilter().catch(new RelayError('weak_key', 'the RSA key has 1024 bits'), host(sink));
    assert.equal(sink.status, 422);
    assert.deepEqual(sink.body, {
      error: { code: 'weak_key', message: 'the RSA key has 1024 bits' },
    });
  });
});
