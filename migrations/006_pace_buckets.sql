-- Shared pacing (docs/providers.md, "Rate pacing"; src/db/pace-store.ts): one token bucket per connector key for
-- the whole deployment, so N workers together stay under a provider key's rate instead of sending N times it.
--
-- Not tenant data: a key is a provider URL + credential (+ Slack channel), shared by every tenant that uses it,
-- so the table has no tenant column and no row-level security. `key` is the pacer's keyed hash (provider name and
-- 24 hex characters of an HMAC-SHA-256 over URL, credential and channel, keyed from PROBECTL_NOTIFY_PACE_KEY_SECRET,
-- which is never stored here), never the URL or the credential; the CHECK refuses anything else.
--
-- A bucket is anchored at (tokens, refilled_at): its level at time t is
--   least(capacity, tokens + (t - refilled_at) × rate_per_min / 60)
-- with capacity = greatest(1, floor(rate_per_min / 60)) — one second's worth. A take succeeds when the level is
-- at least 1 (and no more urgent class is waiting, below), and moves the anchor to (level - 1, now). Time is
-- the database's clock (clock_timestamp()) only, so the workers' clocks never matter; the refill never counts
-- negative time (an anchor ahead of the clock — the clock stepped back — counts as now and is written back so).
-- A provider's Retry-After sets held_until: no token before it, at most 1 right after it. No stored time (held_until,
-- refused_k) is honoured more than 10 minutes (MAX_RETRY_AFTER_MS) ahead of the clock: a take cuts it to that.
--
-- Priority across workers: refused_0..refused_2 hold when a caller of class 0, 1 or 2 (src/activities/pace-class.ts)
-- was last refused a token. Within a short window after such a refusal, callers of every less urgent class are
-- refused too, even with a token there, so the next token goes to the more urgent caller whichever worker it
-- waits in. A caller deferred to a later turn (the pacer's RateLimited retry) moves its class's refused_k to that
-- turn (never back), so the turn binds the less urgent classes on every worker until it has passed by the window. `granted` is the answer of the latest take (read back by RETURNING in the same statement).
--
-- Rows are small and one per key ever used; a key no longer configured leaves its row behind (harmless).

CREATE TABLE pace_buckets (
  key          text             PRIMARY KEY CHECK (key ~ '^[a-z]{1,20}:[0-9a-f]{24}$'),
  rate_per_min double precision NOT NULL CHECK (rate_per_min > 0),
  tokens       double precision NOT NULL,
  refilled_at  timestamptz      NOT NULL,
  granted      boolean          NOT NULL,
  held_until   timestamptz,
  refused_0    timestamptz,
  refused_1    timestamptz,
  refused_2    timestamptz
);

GRANT SELECT, INSERT, UPDATE ON pace_buckets TO probectl_notify_app;
