-- Short one-click unsubscribe links: on a delivery path that re-encodes long List-Unsubscribe
-- fields (SendGrid), the relay replaces each http(s) link with one of its own that forwards
-- to the platform's. One row per message and original link; the token is 132 random bits.

CREATE TABLE unsubscribe_links (
  token text PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  message_id uuid NOT NULL,
  target text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (message_id, target)
);
CREATE INDEX unsubscribe_links_created ON unsubscribe_links (created_at);
