-- DKIM on top of S/MIME: one key per tenant, its private half sealed by the key vault.
CREATE TABLE dkim_keys (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  domain text NOT NULL,
  selector text NOT NULL,
  -- 'rsa-sha256' (RSA-2048) or 'ed25519-sha256'
  algorithm text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
  -- The base64 value of the DNS record's p= tag.
  public_key text NOT NULL,
  sealed_private_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
