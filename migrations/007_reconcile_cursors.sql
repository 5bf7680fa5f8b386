-- Per-connector reconciliation (PROBECTL_NOTIFY_RECONCILE_MODE=per-connector; src/reconcile/): one row per readable
-- connector (tenant, connector id) of a task queue, holding how far its "what changed since" listing got.
--
-- `cursor`: every change at the provider up to this time was listed and acted on (the next listing asks from
-- here, minus a small overlap). It only moves past objects that were processed.
-- `resume`: where a listing cut by its page bound stopped (the lister's own position, opaque here: ServiceNow's
-- keyset (time, sys_id), Opsgenie's offset in its newest-first walk); the next pass continues there instead of
-- starting again from the cursor, so a burst larger than the bound is read to its end over several passes instead
-- of re-read forever. NULL: start from the cursor. Set and cleared together with the cursor.
-- Leases: a worker takes a connector's pass by setting lease_until (and its lease_token) while the lease has
-- passed; the lease lasts about one interval, so of several workers one reconciles a connector per interval.
-- Only the holder of the lease moves the cursor.
-- `task_queue`: two deployments (or two test suites) sharing one database never share cursors, as in 005.
--
-- Row-level security, forced, exactly like 001/005: a tenant transaction sees and changes only its own rows. The
-- reconciler knows its connectors from its configuration and works under each connector's tenant, so no
-- cross-tenant scan function is needed.

CREATE TABLE reconcile_cursors (
  task_queue   text        NOT NULL CHECK (length(task_queue) BETWEEN 1 AND 1000),
  tenant_id    text        NOT NULL,
  connector_id text        NOT NULL CHECK (length(connector_id) BETWEEN 1 AND 64),
  cursor       timestamptz NOT NULL,
  resume       text        CHECK (resume IS NULL OR length(resume) BETWEEN 1 AND 20000),
  lease_until  timestamptz,
  lease_token  text,
  passes       bigint      NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_queue, tenant_id, connector_id)
);

ALTER TABLE reconcile_cursors ENABLE ROW LEVEL SECURITY;
ALTER TABLE reconcile_cursors FORCE  ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON reconcile_cursors
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON reconcile_cursors TO probectl_notify_app;
