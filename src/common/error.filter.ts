/**
 * One exception filter: RelayError and validation errors become {error: {code, message}}
 * with the status from the error table; anything unexpected becomes 500 with a
 * correlation id, logged with that id and its stack, never with request data.
 */
import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  HttpException,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { ERROR_CODES, type ErrorCode } from '../plugin/error-codes';
import { isRelayError } from '../plugin/relay-error';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  // multer's PayloadTooLargeException for an upload over the limit
  413: 'too_large',
};

/**
 * What to log about an unexpected error: its name, the first line of its message and of
 * its causes' messages, and the stack frames. Query builders put statement parameters
 * (which can hold sealed keys or personal data) after the first line; those are left out.
 */
export function describeSafely(e: unknown): string {
  const parts: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current && depth < 3; depth++) {
    const err = current as Error;
    parts.push(`${err.name ?? 'Error'}: ${String(err.message ?? err).split('\n')[0]}`);
    current = err.cause;
  }
  const frames = ((e as Error)?.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  return [parts.join(' <- '), ...frames.slice(0, 8)].join('\n');
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (isRelayError(exception)) {
      res.status(ERROR_CODES[exception.code].http).json({
        error: { code: exception.code, message: exception.message },
      });
      return;
    }
    if (exception instanceof HttpException && STATUS_CODES[exception.getStatus()]) {
      const status = exception.getStatus();
      const body = exception.getResponse() as { message?: string | string[] } | string;
      let message = typeof body === 'string' ? body : body.message;
      if (Array.isArray(message)) message = message.join('; ');
      if (exception instanceof BadRequestException && !message)
        message = 'the request is not valid';
      res
        .status(status)
        .json({ error: { code: STATUS_CODES[status], message: message ?? exception.message } });
      return;
    }
    if (exception instanceof HttpException) {
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    // Express's JSON parser reports an oversized body with this type, not as an HttpException.
    if ((exception as { type?: string })?.type === 'entity.too.large') {
      res
        .status(413)
        .json({ error: { code: 'too_large', message: 'the request body is over the size limit' } });
      return;
    }
    const id = randomUUID();
    this.log.error(`unexpected error ${id}: ${describeSafely(exception)}`);
    res.status(500).json({
      error: { code: 'internal_error', message: `unexpected error; correlation id ${id}` },
    });
  }
}
