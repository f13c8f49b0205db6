-- Where a certificate's private key lives (its custody): `sealed` in this database under the
-- master key, as before; `pkcs11` on an HSM token; `aws-kms` in AWS KMS. For the last two
-- the key never reaches the relay: `sealed_custody` holds how to reach it (module, token and
-- key label or id with the PIN; region, key id and credentials), sealed under the master key,
-- and `custody_ref` the same without its secrets, for the API to show.
ALTER TABLE certificates ADD COLUMN custody text NOT NULL DEFAULT 'sealed'
  CHECK (custody IN ('sealed', 'pkcs11', 'aws-kms'));
ALTER TABLE certificates ADD COLUMN sealed_custody bytea;
ALTER TABLE certificates ADD COLUMN custody_ref jsonb NOT NULL DEFAULT '{}';
-- What the S/MIME Baseline Requirements lint found at upload: the profile, and warnings and
-- notices (errors are refused).
ALTER TABLE certificates ADD COLUMN lint jsonb NOT NULL DEFAULT '{"findings": []}';
-- The key made in the relay that this certificate was issued for, if any.
ALTER TABLE certificates ADD COLUMN signing_key_id uuid;

-- Keys made in the relay for a certificate to come: the key in its custody and the CSR
-- (PKCS#10) to send to a CA. The issued certificate is attached to it later; the key is
-- never exported.
CREATE TABLE signing_keys (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  custody text NOT NULL CHECK (custody IN ('sealed', 'pkcs11', 'aws-kms')),
  spec text NOT NULL,
  public_key_der bytea NOT NULL,
  sealed_private_key bytea,
  sealed_custody bytea,
  custody_ref jsonb NOT NULL DEFAULT '{}',
  subject jsonb NOT NULL,
  email_addresses text[] NOT NULL,
  csr_der bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, created_at DESC);
