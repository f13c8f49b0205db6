-- Transit checks: a check message through the tenant's real delivery path to a seed mailbox,
-- read back over IMAP and compared with what the relay sent.

-- Per tenant: the seed mailbox (its IMAP password sealed by the key vault) and the schedule.
CREATE TABLE transit_check_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  -- The settings without their secret fields.
  settings jsonb NOT NULL,
  sealed_secrets bytea,
  -- When the scheduler starts the next check (NULL: no schedule).
  next_run_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transit_check_settings_due ON transit_check_settings (next_run_at);

CREATE TABLE transit_checks (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- The check message in the spool.
  message_id uuid,
  from_address text NOT NULL,
  seed_address text NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'passed', 'failed')),
  trigger text NOT NULL CHECK (trigger IN ('api', 'schedule')),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  -- The report: delivery, S/MIME, DKIM, what changed in transit, timings, problems.
  result jsonb
);
CREATE INDEX transit_checks_tenant ON transit_checks (tenant_id, started_at DESC);

-- The bytes handed to the upstream, kept only for check messages (to compare with the copy
-- that arrived); dropped with the body after RETENTION_DAYS.
ALTER TABLE messages ADD COLUMN sent_copy bytea;
