-- Event deliveries: the outbox of every event's hand-off to each of its receivers (webhook
-- subscriptions, platform feedback through an integration). SQL is the truth and the
-- schedule: nothing lives only in Redis, so a Redis flush loses nothing. A delivery is
-- pending until delivered or given up; a disabled subscription's deliveries stay pending
-- (paused) and go out, in order, when it is enabled again.

CREATE TABLE event_deliveries (
  id uuid PRIMARY KEY,
  event_id uuid NOT NULL,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  sink text NOT NULL CHECK (sink IN ('webhook', 'feedback')),
  -- The subscription or the integration.
  target_id uuid NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- Held by the instance sending it until then; an instance that dies leaves it to others.
  lease_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (event_id, sink, target_id)
);
CREATE INDEX event_deliveries_pending ON event_deliveries (sink, target_id, created_at, id)
  WHERE state = 'pending';
CREATE INDEX event_deliveries_finished ON event_deliveries (finished_at) WHERE state <> 'pending';

-- A subscription is disabled after failing for a long stretch, not after a count of attempts.
ALTER TABLE webhook_subscriptions ADD COLUMN failing_since timestamptz;

-- The log of platform feedback attempts, as webhooks have one.
CREATE TABLE feedback_deliveries (
  id bigserial PRIMARY KEY,
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  message_id uuid,
  attempt integer NOT NULL,
  outcome text NOT NULL,
  detail text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_deliveries_integration ON feedback_deliveries (integration_id, created_at DESC, id DESC);
