/**
 * smime-relay as a library: load a signing identity, sign a message, verify one.
 */
export * from './smime';
export { RelayError, isRelayError } from './plugin/relay-error';
export { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from './plugin/error-codes';
