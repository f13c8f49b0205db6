/**
 * Every column of sealed records (private keys and secrets under the master key), as their
 * owners declare them: what `smime-relay rotate-master-key` re-wraps. A new owner of sealed
 * records adds its declaration here.
 */
import { CERTIFICATE_CUSTODY, CERTIFICATE_KEYS } from './certificates/certificates.repository';
import { DELIVERY_SECRETS } from './relay/delivery-settings';
import { WEBHOOK_SECRETS } from './webhooks/subscriptions';
import { DKIM_KEYS } from './dkim/dkim-keys';
import { INTEGRATION_SECRETS } from './integrations/integration-store';
import { TRANSIT_SECRETS } from './transit/transit-settings';
import { SIGNING_KEY_SECRETS } from './certificates/signing-keys';
import type { SealedColumn } from './secrets/rotate-master-key';

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  CERTIFICATE_KEYS,
  CERTIFICATE_CUSTODY,
  DELIVERY_SECRETS,
  WEBHOOK_SECRETS,
  DKIM_KEYS,
  INTEGRATION_SECRETS,
  TRANSIT_SECRETS,
  ...SIGNING_KEY_SECRETS,
];
