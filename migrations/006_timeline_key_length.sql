-- Timeline keys as long as the contract makes them. The longest key any writer builds is a correlated signal's,
-- `correlate:probectl-<incident id, at most 128>:<signal id, at most 256>` (src/shared/records.ts correlateKey):
-- 404 characters. Migration 004 allowed 300, so a valid correlate signal with long ids made every write that carried
-- its entry fail on the CHECK: the API took its own failed write for an outage and left the entry to the workflow,
-- whose write then failed on every try, kept everything batched with it unwritten, and never let the run complete.
--
-- 500 characters leave room for every key the code builds; at most 4 bytes each, an index entry of
-- incident_timeline_key (tenant ≤ 64, incident ≤ 128, key ≤ 2000 bytes) stays under the btree limit (~2.7 kB).
ALTER TABLE incident_timeline DROP CONSTRAINT incident_timeline_key_length;
ALTER TABLE incident_timeline ADD CONSTRAINT incident_timeline_key_length CHECK (entry_key IS NULL OR length(entry_key) BETWEEN 1 AND 500);
