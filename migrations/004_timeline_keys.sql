-- Timeline entries get a key no two runs can collide on. Until now an entry was identified by
-- (tenant, incident, seq) with seq numbered by each run from 1: a run started again after a failed or
-- terminated one numbered from 1 again and its entries were silently dropped (ON CONFLICT DO NOTHING).
--
-- Since the state-machine-v1 workflow, every entry carries entry_key: a key made of the run chain's first run
-- id and the action or decision that produced it (or, for what the API records, the delivery or signal id), so
-- a retried write is still a no-op and two runs never share a key. Entries written the old way keep their seq
-- (unique per incident where present). The timeline is read in (at, id) order; `seq` is numbered on read.
--
-- Keys are at most 500 characters: the longest any writer builds is a correlated signal's,
-- `correlate:probectl-<incident id, ≤ 128>:<signal id, ≤ 256>` (404 characters); at most 4 bytes each, an index
-- entry of incident_timeline_key (tenant ≤ 64, incident ≤ 128, key ≤ 2000 bytes) stays under the btree limit.

ALTER TABLE incident_timeline ADD COLUMN entry_key text;
ALTER TABLE incident_timeline ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE incident_timeline DROP CONSTRAINT incident_timeline_pkey;
ALTER TABLE incident_timeline ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE incident_timeline ADD PRIMARY KEY (id);
ALTER TABLE incident_timeline ADD CONSTRAINT incident_timeline_identified CHECK (seq IS NOT NULL OR entry_key IS NOT NULL);
ALTER TABLE incident_timeline ADD CONSTRAINT incident_timeline_key_length CHECK (entry_key IS NULL OR length(entry_key) BETWEEN 1 AND 500);
CREATE UNIQUE INDEX incident_timeline_seq ON incident_timeline (tenant_id, incident_id, seq) WHERE seq IS NOT NULL;
CREATE UNIQUE INDEX incident_timeline_key ON incident_timeline (tenant_id, incident_id, entry_key) WHERE entry_key IS NOT NULL;
CREATE INDEX incident_timeline_order ON incident_timeline (tenant_id, incident_id, at, id);
