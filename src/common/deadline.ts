/**
 * A deadline the core holds around work it hands to a plugin (a transport's send, a
 * platform's feedback call), so a plugin that never answers cannot hold a worker slot for
 * ever. The work is not cancelled (a plugin's own timeouts do that); its late result is
 * ignored and its late failure swallowed.
 */

/** The work did not settle within its deadline. */
export class DeadlineExceeded extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not finish within ${formatSeconds(ms)}`);
    this.name = 'DeadlineExceeded';
  }
}

const formatSeconds = (ms: number): string =>
  ms < 1000 ? `${ms} ms` : ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;

/** `work`'s result, or DeadlineExceeded naming `what` once `ms` have passed first. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  work.catch(() => undefined); // a failure after the deadline has no one to tell
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
