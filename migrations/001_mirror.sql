-- The mirror of incidents, their links to provider objects, and the append-only timeline.
-- Written only by activities, read by the API. Row-level security, forced, scopes every row to the tenant
-- set in the transaction (probectl.tenant_id); the service switches to the non-superuser role
-- probectl_notify_app in every transaction so the policies really apply.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'probectl_notify_app') THEN
    CREATE ROLE probectl_notify_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created concurrently by another database's migration on the same cluster
END $$;

-- The login role must be allowed to SET ROLE to the service role.
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'probectl_notify_app', 'MEMBER') THEN
    EXECUTE format('GRANT probectl_notify_app TO %I', current_user);
  END IF;
END $$;

CREATE TABLE incidents (
  tenant_id         text        NOT NULL,
  incident_id       text        NOT NULL,
  title             text        NOT NULL,
  severity          text        NOT NULL,
  status            text        NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  opened_at         timestamptz NOT NULL,
  acknowledged_at   timestamptz,
  resolved_at       timestamptz,
  resolution_source text,
  resolution_actor  text,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, incident_id)
);

CREATE TABLE incident_integrations (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id     text        NOT NULL,
  incident_id   text        NOT NULL,
  connector_id  text        NOT NULL,
  provider      text        NOT NULL,
  status        text        NOT NULL,
  external_ref  text,
  external_url  text,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT incident_integrations_one_link UNIQUE (tenant_id, incident_id, connector_id)
);

-- Reverse lookup for inbound deliveries: external ref → link → incident, within one tenant.
CREATE INDEX incident_integrations_reverse ON incident_integrations (tenant_id, provider, external_ref);

CREATE TABLE incident_timeline (
  tenant_id     text        NOT NULL,
  incident_id   text        NOT NULL,
  seq           integer     NOT NULL,
  at            timestamptz NOT NULL,
  kind          text        NOT NULL,
  connector_id  text,
  source        text,
  actor         text,
  detail        text,
  PRIMARY KEY (tenant_id, incident_id, seq)
);

-- Append-only: no role may rewrite history, the owner included.
CREATE FUNCTION probectl_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'incident_timeline is append-only';
END $$;
CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE OR DELETE ON incident_timeline
  FOR EACH ROW EXECUTE FUNCTION probectl_timeline_append_only();

ALTER TABLE incidents             ENABLE ROW LEVEL SECURITY;
ALTER TABLE incidents             FORCE  ROW LEVEL SECURITY;
ALTER TABLE incident_integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_integrations FORCE  ROW LEVEL SECURITY;
ALTER TABLE incident_timeline     ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_timeline     FORCE  ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON incidents
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));
CREATE POLICY tenant_isolation ON incident_integrations
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));
CREATE POLICY tenant_isolation ON incident_timeline
  USING (tenant_id = current_setting('probectl.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('probectl.tenant_id', true));

GRANT USAGE ON SCHEMA public TO probectl_notify_app;
GRANT SELECT, INSERT, UPDATE ON incidents, incident_integrations TO probectl_notify_app;
GRANT SELECT, INSERT ON incident_timeline TO probectl_notify_app;
