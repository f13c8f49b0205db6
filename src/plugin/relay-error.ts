import { ERROR_CODES, type ErrorCode } from './error-codes';

/**
 * The one error type of smime-relay. `code` is stable and documented; `message` is a plain
 * sentence that never contains key material, passwords or message bodies.
 */
export class RelayError extends Error {
  override readonly name = 'RelayError';
  readonly code: ErrorCode;
  readonly permanent: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; permanent?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.permanent = options?.permanent ?? ERROR_CODES[code].permanent;
  }

  /** What to do about it, from the error table. */
  get hint(): string {
    return ERROR_CODES[this.code].hint;
  }

  /** One line for people: `error [code]: what is wrong, and what to do`. */
  toLine(): string {
    return `error [${this.code}]: ${this.message}. ${this.hint}`;
  }
}

export function isRelayError(e: unknown): e is RelayError {
  return e instanceof RelayError;
}
