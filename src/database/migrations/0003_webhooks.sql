-- Webhooks: subscriptions (their signing secrets sealed by the key vault), the log of
-- every delivery attempt, and which certificate expiry notices were already sent.

-- Events are an outbox: the dispatcher hands each one to the webhook queue once.
ALTER TABLE events ADD COLUMN dispatched_at timestamptz;
CREATE INDEX events_undispatched ON events (created_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_subscriptions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  url text NOT NULL,
  events text[] NOT NULL,
  description text,
  sealed_secret bytea NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  consecutive_failures integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id);

CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  attempt integer NOT NULL,
  status integer,
  latency_ms integer NOT NULL,
  response_excerpt text NOT NULL DEFAULT '',
  error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at DESC, id DESC);

-- One row per certificate and notice ('expiring-30', …, 'expired'): inserting it claims
-- the notice, so it is sent once even with several instances scanning at once.
CREATE TABLE certificate_notices (
  certificate_id uuid NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  notice text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (certificate_id, notice)
);
