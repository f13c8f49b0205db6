-- Per-recipient-domain signing: a tenant's rules (detached, opaque or unsigned for listed
-- domains), and on each message the signing its recipients' rule chose (NULL: the
-- transport's default format, signed as the tenant's policy says).

ALTER TABLE tenants ADD COLUMN recipient_rules jsonb NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN signing_mode text
  CHECK (signing_mode IN ('detached', 'opaque', 'unsigned'));
