import type { Logger } from '@nestjs/common';

/** At most one warning per interval: a Redis outage must not flood the log. */
export function throttledWarning(log: Logger, intervalMs = 30_000): (message: string) => void {
  let last = 0;
  let suppressed = 0;
  return (message) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    log.warn(
      suppressed ? `${message} (and ${suppressed} similar since the last warning)` : message,
    );
    last = now;
    suppressed = 0;
  };
}
