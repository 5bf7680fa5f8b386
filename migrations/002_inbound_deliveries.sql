-- Inbound delivery ids already processed (POST /ingest/itsm/{provider}/{id}), so a provider's retry of the
-- same delivery is a no-op also after a restart and after the incident's workflow closed. The id is the
-- provider's own (PagerDuty X-Webhook-Id, Jira X-Atlassian-Webhook-Identifier, or a body field); the row is
-- inserted in the same transaction that signals the workflow, so a failed signal leaves no row behind.
-- Retention: rows older than 30 days are deleted opportunistically by the API (docs/inbound.md); providers
-- stop retrying long before that (PagerDuty: 48 hours).
-- Row-level security, forced, exactly like 001: a tenant sees and dedupes only its own deliveries.

CREATE TABLE inbound_deliveries (
  tenant_id    text        NOT NULL,
  provider     text        NOT NULL,
  delivery_id  text        NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 255),
  entry_id     text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT inbound_deliveries_once PRIMARY KEY (tenant_id, provider, delivery_id)
);

CREATE INDEX inbound_deliveries_age ON inbound_deliveries (tenant_id, received_at);

ALTER TABLE inbound_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbound_deliveries FORCE  ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON inbound_deliveries
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));

GRANT SELECT, INSERT, DELETE ON inbound_deliveries TO probectl_notify_app;
