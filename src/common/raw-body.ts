/**
 * Raw messages (Content-Type: message/rfc822) arrive as a Buffer, up to the size limit.
 * Parser failures answer in the API's own error shape.
 */
import type { NextFunction, Request, Response } from 'express';
import { json, raw } from 'express';
import { JsonBodyRefused, verifyJsonText } from './json-limits';

/** JSON bodies (certificate uploads carry base64 PKCS#12 or PEM) up to 1 MB. */
export const MAX_JSON_BYTES = 1024 * 1024;

type Parser = (req: Request, res: Response, next: (err?: unknown) => void) => void;

/** Run a body parser, answering its failures as {error: {code, message}}. */
function answering(parse: Parser, limit: number, what: string) {
  return (req: Request, res: Response, next: NextFunction): void =>
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const tooLarge = (err as { type?: string }).type === 'entity.too.large';
      const refused = err instanceof JsonBodyRefused;
      res.status(tooLarge ? 413 : 400).json({
        error: tooLarge
          ? { code: 'too_large', message: `the ${what} is over ${limit} octets` }
          : {
              code: 'invalid_request',
              message: refused ? err.message : `the ${what} could not be read`,
            },
      });
    });
}

/** Raw messages up to the limit the service is configured with (MAX_MESSAGE_BYTES). */
export const rawMessageBody = (maxMessageBytes: number) =>
  answering(raw({ type: 'message/rfc822', limit: maxMessageBytes }), maxMessageBytes, 'message');

export const jsonBody = answering(
  json({ limit: MAX_JSON_BYTES, verify: verifyJsonText }),
  MAX_JSON_BYTES,
  'JSON body',
);

/** Where platforms hand over messages as JSON (a listmonk postback, attachments in base64). */
export const INBOUND_ROUTES = 'v1/inbound/*path';

/** JSON on the inbound routes: a whole message in base64 and its wrapping fit. */
export function inboundJsonBody(maxMessageBytes: number) {
  const limit = Math.ceil((maxMessageBytes * 4) / 3) + MAX_JSON_BYTES;
  return answering(json({ limit, verify: verifyJsonText }), limit, 'JSON body');
}
