-- Follow-ups: work that must happen after the workflow decided it (src/shared/records.ts FollowUpRecord) — a
-- pager's second, delayed resolve, a ticket's next lookup-and-close, the signed callback to probectl. Recorded in
-- the same transaction as the outcome or decision that owes them (the record transaction of the mirror), and
-- carried out by the worker's follow-up runner (src/followups/), at least once: every kind is idempotent (a
-- resolve of a resolved object, a callback probectl dedupes by eventId). docs/workflow-contract.md, "Follow-ups".
--
-- One row per (tenant, incident, key); the key is the workflow's (run chain + what it is), so a retried write
-- is a no-op. `task_queue` is the task queue of the worker that recorded the row: a runner takes only its own
-- queue's rows (two deployments, or two test suites, sharing one database never run each other's work).
-- `payload` is the FollowUpRecord and `incident` the incident as the workflow holds it (what a connector call
-- needs); neither ever holds a credential or a webhook URL (the writer builds both from known fields only).
--
-- Leases: a runner claims a due row by setting lease_until (and its lease_token) under FOR UPDATE SKIP LOCKED;
-- the row is not due again until the lease has passed, so several workers share the work and a row is carried
-- out by one of them in the normal case. A rescheduled row gets a later due_at and loses its lease.
--
-- Row-level security, forced, exactly like 001/002: a tenant transaction sees and changes only its own rows.
-- The runner must find every tenant's due rows: the SECURITY DEFINER functions below return only
-- (tenant_id, id) of due rows, or counts for the backlog gauge; every row is then read and changed under its
-- tenant's row-level security. They run as the migration's (owning) role, which the policy follow_ups_scan
-- lets read undone rows and nothing else (FORCE applies to the owner too).
-- Retention: done rows older than 30 days (the inbound retention, docs/inbound.md) are deleted by the runner.

CREATE TABLE follow_ups (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text        NOT NULL,
  incident_id  text        NOT NULL,
  task_queue   text        NOT NULL CHECK (length(task_queue) BETWEEN 1 AND 1000),
  key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
  kind         text        NOT NULL CHECK (kind IN ('re-resolve', 'ticket-close', 'callback')),
  incident     jsonb       NOT NULL,
  payload      jsonb       NOT NULL,
  due_at       timestamptz NOT NULL,
  attempts     integer     NOT NULL DEFAULT 0,
  lease_until  timestamptz,
  lease_token  text,
  done_at      timestamptz,
  -- ok: carried out; not_found: a lookup-and-close found no ticket (the next pass follows, or the last one said
  -- so); failed: refused for good; orphaned: its connector is no longer configured; expired: retried until its
  -- retry window ended; skipped: nothing to do (no callback URL configured)
  outcome      text        CHECK (outcome IN ('ok', 'not_found', 'failed', 'orphaned', 'expired', 'skipped')),
  last_error   text        CHECK (last_error IS NULL OR length(last_error) <= 1000),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT follow_ups_once UNIQUE (tenant_id, incident_id, key),
  CHECK ((done_at IS NULL) = (outcome IS NULL))
);

CREATE INDEX follow_ups_due ON follow_ups (task_queue, due_at) WHERE done_at IS NULL;
CREATE INDEX follow_ups_done ON follow_ups (tenant_id, done_at) WHERE done_at IS NOT NULL;

ALTER TABLE follow_ups ENABLE ROW LEVEL SECURITY;
ALTER TABLE follow_ups FORCE  ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON follow_ups
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));

-- The owning role (the one running this migration, which owns the functions below) may read undone rows of
-- every tenant; with FORCE it would otherwise see none. Reading only: no other policy for it.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY follow_ups_scan ON follow_ups FOR SELECT TO %I USING (done_at IS NULL)', current_user);
END $$;

-- Due, unleased, undone rows of one task queue over every tenant, oldest first: (tenant_id, id) and nothing else.
CREATE FUNCTION probectl_follow_ups_due(queue text, max_rows integer)
  RETURNS TABLE (tenant_id text, id bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
AS $$
  SELECT f.tenant_id, f.id FROM public.follow_ups f
   WHERE f.task_queue = queue AND f.done_at IS NULL AND f.due_at <= now()
     AND (f.lease_until IS NULL OR f.lease_until <= now())
   ORDER BY f.due_at
   LIMIT least(greatest(max_rows, 0), 1000)
$$;

-- The backlog for /metrics: rows of one task queue that became due and are not done yet (being tried or backing
-- off after a failure included: due_at moves with each retry, the payload keeps when it first became due), by kind.
CREATE FUNCTION probectl_follow_ups_backlog(queue text)
  RETURNS TABLE (kind text, due bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
AS $$
  SELECT f.kind, count(*) FROM public.follow_ups f
   WHERE f.task_queue = queue AND f.done_at IS NULL AND (f.payload->>'dueAt')::timestamptz <= now()
   GROUP BY f.kind
$$;

REVOKE ALL ON FUNCTION probectl_follow_ups_due(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION probectl_follow_ups_backlog(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION probectl_follow_ups_due(text, integer) TO probectl_notify_app;
GRANT EXECUTE ON FUNCTION probectl_follow_ups_backlog(text) TO probectl_notify_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON follow_ups TO probectl_notify_app;
