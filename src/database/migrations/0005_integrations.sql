-- Platform integrations (listmonk, Mautic): what a tenant stored for each, its secret
-- fields sealed by the key vault, and for platforms that call the relay a Basic-auth login.

CREATE TABLE integrations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  platform text NOT NULL,
  -- The settings without their secret fields.
  settings jsonb NOT NULL,
  -- The secret fields as JSON, sealed by the key vault (NULL when there are none).
  sealed_secrets bytea,
  -- The login the platform uses to call the relay (NULL for platforms that never do).
  username text UNIQUE,
  -- SHA-256 of the generated password (256 random bits); the password is shown once.
  password_hash bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integrations_tenant ON integrations (tenant_id, platform);
