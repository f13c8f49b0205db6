import { RelayError } from '../plugin/relay-error';

/** Run an argument parser, turning its complaints into RelayError('usage'). */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new RelayError('usage', (e as Error).message.replace(/\. To specify.*$/s, ''));
  }
}
