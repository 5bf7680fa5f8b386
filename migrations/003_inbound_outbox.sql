-- Inbound deliveries accepted but not yet known to be signalled (POST /ingest/itsm/{provider}/{id}).
-- A verified, parsed delivery that names one of the tenant's incidents is inserted here in the same short
-- transaction that claims its delivery id (002), and committed before Temporal is called. The request then
-- signals it inline with a short deadline; whatever Temporal did not take in time is signalled by the API's
-- dispatcher, retried until Temporal takes it (at-least-once: the workflow treats a repeated resolve or
-- acknowledge as a no-op). So an accepted delivery survives a Temporal outage and an API crash.
--
-- Leases: next_attempt_at is both the back-off and the lease. Whoever tries a row (the request inline, or a
-- dispatcher) first moves next_attempt_at past the time it needs and stamps lease_token; a row is due again
-- only when that time has passed, so replicas share the work without sending a row twice in the normal case.
--
-- Row-level security, forced, exactly like 001/002: a tenant transaction sees and changes only its own rows.
-- The dispatcher must find every tenant's due rows: the SECURITY DEFINER functions below return only
-- (tenant_id, id) of due rows, or two numbers for the backlog gauge; every row is then read and updated
-- under its tenant's row-level security. They run as the migration's (owning) role, which the policy
-- outbox_scan lets read pending rows and nothing else (FORCE applies to the owner too).
-- Retention: done rows go with the delivery ids (30 days, docs/inbound.md); pending rows are never pruned.

CREATE TABLE inbound_outbox (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       text        NOT NULL,
  incident_id     text        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN ('resolved', 'acknowledged')),
  -- the signal's source: the origin connector id, or inbound:<entry-id>
  source          text        NOT NULL,
  actor           text,
  reason          text,
  entry_id        text        NOT NULL,
  provider        text        NOT NULL,
  -- found by the payload's probectl-<id> only (docs/inbound.md, step 3): the incident's workflow must
  -- belong to this tenant before it is signalled
  check_owner     boolean     NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_token     text,
  last_error      text,
  done_at         timestamptz,
  -- signalled; closed (the workflow is closed or gone: a duplicate); not_owner (the fallback's owner check
  -- failed: ignored)
  outcome         text        CHECK (outcome IN ('signalled', 'closed', 'not_owner')),
  CHECK ((done_at IS NULL) = (outcome IS NULL))
);

CREATE INDEX inbound_outbox_due ON inbound_outbox (next_attempt_at) WHERE done_at IS NULL;
CREATE INDEX inbound_outbox_done ON inbound_outbox (tenant_id, done_at) WHERE done_at IS NOT NULL;

ALTER TABLE inbound_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE inbound_outbox FORCE  ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON inbound_outbox
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));

-- The owning role (the one running this migration, which owns the functions below) may read pending rows of
-- every tenant; with FORCE it would otherwise see none. Reading only: no other policy for it.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY outbox_scan ON inbound_outbox FOR SELECT TO %I USING (done_at IS NULL)', current_user);
END $$;

-- Due rows of every tenant, oldest first: (tenant_id, id) and nothing else.
CREATE FUNCTION probectl_inbound_outbox_due(max_rows integer)
  RETURNS TABLE (tenant_id text, id bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
AS $$
  SELECT o.tenant_id, o.id FROM public.inbound_outbox o
   WHERE o.done_at IS NULL AND o.next_attempt_at <= now()
   ORDER BY o.next_attempt_at
   LIMIT least(greatest(max_rows, 0), 1000)
$$;

-- The backlog for /metrics: how many rows are pending, and the age of the oldest, over all tenants.
CREATE FUNCTION probectl_inbound_outbox_backlog()
  RETURNS TABLE (pending bigint, oldest_seconds double precision)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
AS $$
  SELECT count(*), coalesce(extract(epoch FROM now() - min(o.received_at))::double precision, 0)
    FROM public.inbound_outbox o WHERE o.done_at IS NULL
$$;

REVOKE ALL ON FUNCTION probectl_inbound_outbox_due(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION probectl_inbound_outbox_backlog() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION probectl_inbound_outbox_due(integer) TO probectl_notify_app;
GRANT EXECUTE ON FUNCTION probectl_inbound_outbox_backlog() TO probectl_notify_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON inbound_outbox TO probectl_notify_app;
