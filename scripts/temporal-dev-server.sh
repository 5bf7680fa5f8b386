#!/usr/bin/env bash
# Starts the Temporal dev server for local use: SQLite file in .data/ (ignored by git), gRPC on
# ${TEMPORAL_PORT:-7233}, the UI on ${TEMPORAL_UI_PORT:-8233}, the project's search attributes registered.
# Eager activity dispatch is on: the opens an incident schedules go to the worker with its workflow-task
# answer instead of through the task queue (docs/benchmarks.md has the measured effect).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cli="$("$here/temporal-cli.sh")"
data="${TEMPORAL_DATA_DIR:-$root/.data}"
mkdir -p "$data"
args=()
while read -r name type; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  args+=(--search-attribute "$name=$type")
done <"$here/search-attributes.txt"
exec "$cli" server start-dev \
  --ip "${TEMPORAL_IP:-127.0.0.1}" \
  --port "${TEMPORAL_PORT:-7233}" \
  --ui-port "${TEMPORAL_UI_PORT:-8233}" \
  --db-filename "$data/temporal.sqlite" \
  --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL \
  --log-level "${TEMPORAL_LOG_LEVEL:-warn}" \
  --dynamic-config-value system.enableActivityEagerExecution=true \
  --dynamic-config-value matching.useNewMatcher=true \
  --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
  --dynamic-config-value history.maximumBufferedEventsBatch=1000 \
  "${args[@]}" "$@"
