/**
 * Raw messages (Content-Type: message/rfc822) arrive as a Buffer, up to the size limit.
 * Parser failures answer in the API's own error shape.
 */
import type { NextFunction, Request, Response } from 'express';
import { raw } from 'express';

export const MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

const parse = raw({ type: 'message/rfc822', limit: MAX_MESSAGE_BYTES });

export function rawMessageBody(req: Request, res: Response, next: NextFunction): void {
  parse(req, res, (err?: unknown) => {
    if (!err) return next();
    const tooLarge = (err as { type?: string }).type === 'entity.too.large';
    res.status(tooLarge ? 413 : 400).json({
      error: tooLarge
        ? { code: 'too_large', message: `the message is over ${MAX_MESSAGE_BYTES} octets` }
        : { code: 'invalid_request', message: 'the message body could not be read' },
    });
  });
}
