/**
 * Every patch id the workflow has shipped, in one place (docs/workflow-contract.md, "Changing workflow code
 * safely"). A shipped patch never changes meaning: a new behaviour gets a new id, and recordings under
 * test/histories/ are only ever added. Each patch costs a run two history events (its marker and a
 * TemporalChangeVersion upsert), so a run asks only the patches on its own path.
 *
 *   lean-history-v1     legacy path: fewer history events (asked first thing by every legacy run)
 *   reconciliation-v1   legacy path: read links back while open (asked only by runs from before lean-history-v1)
 *   state-machine-v1    the state machine (src/workflows/v2/): records written by whoever knows them,
 *                       follow-ups, continue-as-new that never waits. Asked once, by the first run of an
 *                       incident (unless it asks first-run-checked-v1, which stands for it) or by a legacy chain's
 *                       first run after the deploy (carrying legacy state); later runs know it from their carried
 *                       state (v: 2) and ask nothing.
 *   begin-in-input-v1   state machine: a first run whose start input carries a well-formed begin snapshot (the API
 *                       passes it) takes it instead of running the beginIncident local activity. Asked only by such
 *                       runs, so a run an older worker began with the local activity (the input ignored) replays
 *                       that way. The service's API no longer passes such a snapshot (it passes the checked one
 *                       below); the branch stays for runs an earlier release started.
 *   begin-checked-v1    state machine: a first run whose start input carries a well-formed begin snapshot with the
 *                       digest of the configuration the API read it under takes it instead of running the local
 *                       activity, when (live) the worker running its first task carries the same digest in its Build
 *                       ID and the run is not one made by a reset (v2/checked-begin.ts). Asked only by such runs
 *                       when live; asked by every run with such a snapshot on replay, where the marker decides.
 *                       Since first-run-checked-v1 it is no longer asked live: it stays for runs begun before.
 *   first-run-checked-v1  the state machine AND the checked begin snapshot, in one patch: asked by a first run (no
 *                       carried state) whose start input carries a well-formed checked snapshot (and no well-formed
 *                       unchecked one) when (live) takesCheckedBegin holds — the same condition as begin-checked-v1 — before
 *                       state-machine-v1, which such a run then does not ask (one marker and one TemporalChangeVersion
 *                       upsert fewer per incident). On replay asked by every first run with such a snapshot: a run
 *                       recorded on state-machine-v1 + begin-checked-v1 has no marker for it and goes on as before.
 *                       A worker of an earlier release cannot replay such a run (it would ask state-machine-v1, find no
 *                       marker, and take the legacy path), so the begin digest names this patch (src/activities/begin.ts):
 *                       an earlier release's workers carry another digest, and the API's gate stays shut while they poll.
 *                       A later patch asked by such a first task must change that digest the same way (name itself in
 *                       BEGIN_DIGEST_TAG), or a worker of this release would pass the gate while unable to replay.
 *   local-first-opens-v1  state machine: an open's first attempt runs as a local activity in the workflow task that
 *                       decided it, then, when that attempt neither succeeds nor fails for good, as the ordinary
 *                       activity (v2/local-first.ts). Asked only by a first run that took the checked begin snapshot
 *                       (first-run-checked-v1) carrying the setting (`localFirstOpenMs`, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS,
 *                       on by default), and by the runs it continues as new (they carry the setting), once, at the first
 *                       first attempt of an open in a task where continue-as-new is not suggested
 *                       (the first task, or a redrive's); a snapshot the run read itself or took
 *                       unchecked has the setting dropped, and runs without it ask nothing, so their histories are those
 *                       of the release before. The setting is in the begin digest only when on, so the API's gate stays
 *                       shut while a worker of an earlier release (or one with the setting off) polls: no run such a
 *                       worker could not replay is begun. That stands in for naming the patch in BEGIN_DIGEST_TAG, which
 *                       would change the digest of configurations with the setting off too.
 *   refused-opens-v1    state machine: the resolve fan-out leaves alone a failed link whose only open try the provider
 *                       refused (v2/state.ts refusedForGood: the link's first open, refused on its first try), where
 *                       nothing was made, instead of sending it a resolve (a pager's resolve by key, a chat
 *                       connector's standalone resolution message, a ticket's lookup-and-close passes). Asked by any
 *                       run, once, in the task that decides the fan-out, when such a link would otherwise get a
 *                       resolve; runs without one ask nothing. Not in the begin digest (it decides nothing a run's
 *                       begin depends on). During a mixed deploy a fan-out decided by a worker of the earlier release
 *                       resolves such a link, as that release did; a run whose history already has the marker fails
 *                       its later tasks on such a worker (non-determinism, test/replay/replay.test.ts) until a worker
 *                       of this release takes them: those tasks are late, nothing is sent twice. A rollback leaves
 *                       such runs stuck the same way until a worker of this release polls again.
 *   earlier-runs-resolve-v1  state machine: where opens the run's history does not hold may have been sent — a run
 *                       started again after the incident's earlier run ended without completing (the start input's
 *                       `again`, set by the service's client), a run made by `temporal workflow reset` (the reset drops
 *                       what the run before it did after the reset point: an open's attempt, a redrive), and the runs
 *                       either of them continues as new (state `earlier`) — a fan-out decided in the run leaves no
 *                       refused link alone: the refusal may follow such a request, which may have landed. Asked live
 *                       only there, before refused-opens-v1, in the task that decides the fan-out when such a link would
 *                       otherwise be left alone; on replay by every run at such a fan-out, where the marker decides (a
 *                       replayer takes the start event's original run id for the run's own, so it cannot tell a reset
 *                       run). A run recorded before the patch has no marker and goes on as it did: a fan-out a worker
 *                       of the release before decided in such a run left the link alone (refused-opens-v1), and that
 *                       stays so. Not in the begin digest. A worker of the release before cannot replay a run that
 *                       recorded the marker (an unmatched patch marker): during a mixed deploy such a run's later tasks
 *                       wait for a worker of this release, as for refused-opens-v1.
 *   cancelled-creates-wait-v1  state machine: when the resolve cancels (or drops before it was scheduled) the open of a
 *                       create without a provider-side key (Slack, Teams, ServiceNow, Jira) while an earlier attempt of it
 *                       may still land at the provider — a create re-issued after a hand-over that interrupted it (its
 *                       `notBefore`) or the fallback of a local first attempt cut by its limit (the fallback timer's end,
 *                       `landsUntil`) — the fan-out waits until that window has ended (v2/state.ts cancelledWindows,
 *                       planResolve), so no chat post or ticket lands after its resolve. Asked by any run, once, in the
 *                       task that would otherwise decide the fan-out, only when such a window (of a connector other than
 *                       the origin) ends after now; the wait then becomes `resolveNotBefore` (a timer), which a continued
 *                       run carries and honours without asking. Pagers never ask it (their second resolve covers a late
 *                       trigger). Not in the begin digest: a first run cannot ask it in its first task (a resolve
 *                       delivered there comes before the begin, so nothing opens; one that arrives while the first
 *                       task's local attempts run is delivered in a later task), so no first task that took the checked
 *                       snapshot holds it. A worker of the release before cannot replay a run that recorded
 *                       it: such tasks wait for a worker of this release, as for refused-opens-v1.
 *   adopted-links-acknowledged-v1  state machine: an acknowledge that reached the run before its begin (a signal
 *                       delivered in the first task, when the handlers are registered, or while beginIncident ran) found
 *                       no link; the begin then acknowledges the open pager links it adopts from the mirror (a run started
 *                       again, or a start after retention) — the origin's own link is marked, never called. Asked by a
 *                       first run, once, in the begin, only when such an acknowledge would be added or the origin's adopted
 *                       link marked (an acknowledged, not resolved incident with an adopted open pager). It CAN be asked in
 *                       a first task that took the checked begin snapshot (the snapshot carries the mirror's record), so
 *                       by the rule above the begin digest names it (src/activities/begin.ts BEGIN_DIGEST_TAG): a worker of
 *                       the release before carries another digest and the API's gate stays shut while one polls. A begin
 *                       that reads its own snapshot may ask it too (in a later task when beginIncident outlived the first):
 *                       there a worker of the release before fails the later tasks until one of this release takes them.
 *   resolved-left-open-v1  state machine: a begin that finds the incident resolved in the mirror while links of
 *                       configured connectors other than the resolution's origin are still open, acknowledged or pending
 *                       there — states no completed fan-out leaves (a failed link is left alone: a completed run leaves
 *                       one on purpose, its open or resolve refused for good) — (an earlier run was terminated, failed or timed out during its resolve fan-out, and
 *                       the incident was started again) resolves those links through the ordinary fan-out — second
 *                       resolves of pagers, ticket passes and probectl's callback (same event id) included — instead of
 *                       ending at once with every such page left open. Asked once, in the begin, only when such a link
 *                       exists. It can be asked in a first task that took the checked begin snapshot, so the begin digest
 *                       names it, as adopted-links-acknowledged-v1.
 */
export const LEAN_HISTORY_V1 = 'lean-history-v1';
export const RECONCILIATION_V1 = 'reconciliation-v1';
export const STATE_MACHINE_V1 = 'state-machine-v1';
export const BEGIN_IN_INPUT_V1 = 'begin-in-input-v1';
export const BEGIN_CHECKED_V1 = 'begin-checked-v1';
export const FIRST_RUN_CHECKED_V1 = 'first-run-checked-v1';
export const LOCAL_FIRST_OPENS_V1 = 'local-first-opens-v1';
export const REFUSED_OPENS_V1 = 'refused-opens-v1';
export const EARLIER_RUNS_RESOLVE_V1 = 'earlier-runs-resolve-v1';
export const CANCELLED_CREATES_WAIT_V1 = 'cancelled-creates-wait-v1';
export const ADOPTED_LINKS_ACKNOWLEDGED_V1 = 'adopted-links-acknowledged-v1';
export const RESOLVED_LEFT_OPEN_V1 = 'resolved-left-open-v1';
