/**
 * Amazon SES API v2 failures, turned into DeliveryErrors with a transient/permanent verdict.
 * SendEmail's documented errors (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html):
 *   TooManyRequestsException 429 (maximum sending rate) ............ transient
 *   LimitExceededException 400 (a sending quota, such as the daily one) transient: it frees up
 *   SendingPausedException 400, AccountSuspendedException 400 ....... permanent: a deliberate
 *     stop by the owner or AWS; retrying for days would only release a backlog on resume
 *   MessageRejected, MailFromDomainNotVerifiedException, BadRequestException 400,
 *   NotFoundException 404 (configuration set) ....................... permanent
 * Common errors: 403 credentials (UnrecognizedClientException, InvalidSignatureException,
 * AccessDeniedException) are permanent, except a signature refused for a skewed clock: the
 * SDK corrects its clock offset from that reply, so the next attempt goes through.
 * ThrottlingException, any 5xx and no HTTP answer at all (refused, reset, DNS, timeout) are
 * transient.
 */
import { DeliveryError } from '../../src/plugin/contract';

/** Names of 4xx errors that mean "not now" rather than "never". */
const TRANSIENT_NAMES = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const CLOCK_SKEW =
  /RequestTimeTooSkewed|RequestExpired|RequestInTheFuture|signature expired|signature not yet current/i;

/** What the SDK's errors carry (ServiceException, or a Node error from the HTTP handler). */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 300);

function isTransientSesError(name: string, status: number, message: string): boolean {
  return (
    status === 429 ||
    status >= 500 ||
    TRANSIENT_NAMES.has(name) ||
    (status === 403 && CLOCK_SKEW.test(`${name} ${message}`))
  );
}

/** `e` as thrown by SESv2Client.send(), classified. */
/**
 * An SDK failure as a verdict. `official` is false for an endpoint the operator set: then the
 * answer's own words (the body's message) are not passed on, only its status and error name.
 */
export function sesDeliveryError(e: unknown, official = true): DeliveryError {
  const err = (e ?? {}) as SdkError;
  const name = typeof err.name === 'string' ? err.name : 'Error';
  const message = oneLine(typeof err.message === 'string' ? err.message : String(e));
  const status = err.$metadata?.httpStatusCode;
  if (status === undefined) {
    const code = err.code ? ` ${err.code}` : '';
    return new DeliveryError(
      `SES could not be reached (${name}${code}): ${message}`,
      false,
      undefined,
      {
        cause: e,
      },
    );
  }
  const requestId = err.$metadata?.requestId ? ` (request id ${err.$metadata.requestId})` : '';
  const reply = official ? `${status} ${name}: ${message}${requestId}` : `${status} ${name}`;
  const transient = isTransientSesError(name, status, message);
  const what = transient ? 'asked to try again later' : 'refused the message';
  return new DeliveryError(`SES ${what}: ${status} ${name}`, !transient, reply, { cause: e });
}
