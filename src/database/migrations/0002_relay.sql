-- The relay: SMTP submission credentials, delivery settings, the message spool, its
-- attempt log and the events the webhooks deliver.

CREATE TABLE smtp_credentials (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  username text NOT NULL UNIQUE,
  -- SHA-256 of the generated password (256 random bits); the password is shown once.
  password_hash bytea NOT NULL,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX smtp_credentials_tenant ON smtp_credentials (tenant_id);

CREATE TABLE delivery_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  transport text NOT NULL,
  -- The settings without their secret fields.
  settings jsonb NOT NULL,
  -- The secret fields as JSON, sealed by the key vault (NULL when there are none).
  sealed_secrets bytea,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  source text NOT NULL,
  envelope_from text NOT NULL,
  envelope_to text[] NOT NULL,
  from_address text NOT NULL,
  subject text,
  size integer NOT NULL,
  -- NULL once the retention period after a final state has passed.
  raw bytea,
  -- Whether the tenant's policy let this message go without a certificate.
  unsigned_allowed boolean NOT NULL DEFAULT false,
  state text NOT NULL CHECK (state IN ('queued', 'retrying', 'delivered', 'failed', 'sent_unsigned')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- The retry period runs from here: acceptance, or the last manual retry.
  retry_period_from timestamptz NOT NULL DEFAULT now(),
  last_error_code text,
  last_error_message text,
  provider_message_id text,
  idempotency_key text,
  meta jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
-- Bodies are stored out of line without compression: compressing every 20 KB newsletter
-- on the way in and again on the way out costs more CPU than the disk it saves.
ALTER TABLE messages ALTER COLUMN raw SET STORAGE EXTERNAL;
CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at DESC, id DESC);
CREATE INDEX messages_unfinished ON messages (next_attempt_at) WHERE state IN ('queued', 'retrying');
CREATE INDEX messages_retention ON messages (finished_at) WHERE raw IS NOT NULL AND finished_at IS NOT NULL;

CREATE TABLE message_attempts (
  id bigserial PRIMARY KEY,
  message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'sent_unsigned', 'retry', 'failed')),
  error_code text,
  reply text
);
CREATE INDEX message_attempts_message ON message_attempts (message_id, attempt);

CREATE TABLE events (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  type text NOT NULL,
  message_id uuid,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_tenant_created ON events (tenant_id, created_at);
