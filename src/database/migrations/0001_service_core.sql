-- Tenants, their API keys and their certificates (private keys sealed by the key vault).
CREATE TABLE tenants (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  signing_policy text NOT NULL DEFAULT 'require' CHECK (signing_policy IN ('require', 'prefer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- SHA-256 of the key; the key itself is shown once and never stored.
  key_hash bytea NOT NULL UNIQUE,
  prefix text NOT NULL,
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE certificates (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email_addresses text[] NOT NULL,
  subject text NOT NULL,
  issuer text NOT NULL,
  serial_number text NOT NULL,
  not_before timestamptz NOT NULL,
  not_after timestamptz NOT NULL,
  fingerprint_sha256 text NOT NULL,
  key_algorithm text NOT NULL,
  -- DER of the signer certificate, and the chain's DER certificates one after another.
  certificate_der bytea NOT NULL,
  chain_der bytea NOT NULL,
  -- The PKCS#8 private key, sealed (see src/certificates/key-vault.ts).
  sealed_private_key bytea NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'removed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz,
  UNIQUE (tenant_id, fingerprint_sha256)
);
CREATE INDEX certificates_tenant ON certificates (tenant_id);
