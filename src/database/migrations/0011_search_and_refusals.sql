-- What the console searches and charts.
-- The Message-ID header field and the subject as a reader sees it (RFC 2047 words decoded;
-- NULL when it reads the same as `subject`), so a search finds a Japanese subject by its words.
ALTER TABLE messages ADD COLUMN message_id_header text;
ALTER TABLE messages ADD COLUMN subject_text text;
CREATE INDEX messages_tenant_message_id ON messages (tenant_id, message_id_header)
  WHERE message_id_header IS NOT NULL;

-- Charts count attempts by the hour they finished. Rows are appended in time order, so a
-- BRIN index answers "the last 48 hours" for almost no cost per insert.
CREATE INDEX message_attempts_finished ON message_attempts USING brin (finished_at);

-- Messages refused at intake (SMTP submission, a platform's postback, the HTTP API): what
-- the sender was told, so an operator can see what never became a message. Never the body.
CREATE TABLE refusals (
  id bigserial PRIMARY KEY,
  -- NULL when the refusal names no tenant that exists.
  tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
  source text NOT NULL,
  code text NOT NULL,
  message text NOT NULL,
  envelope_from text,
  recipients text[] NOT NULL DEFAULT '{}',
  recipient_count integer NOT NULL DEFAULT 0,
  from_address text,
  subject text,
  message_id_header text,
  size integer,
  remote_address text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refusals_tenant_created ON refusals (tenant_id, created_at DESC, id DESC);
CREATE INDEX refusals_created ON refusals (created_at);
