#!/usr/bin/env bash
# `npm start`: everything locally in one terminal — the Temporal dev server (unless TEMPORAL_ADDRESS
# names a running one), migrations, the worker and the API. Ctrl-C stops all of it.
# Without DATABASE_URL it uses the embedded database (PGlite in .data/pglite; for a first look, not production).
set -euo pipefail
cd "$(dirname "$0")/.."

db_args=()
if [ -z "${DATABASE_URL:-}" ]; then
  echo "DATABASE_URL is not set: using the embedded database (PGlite) in .data/pglite." >&2
  echo "  For a real Postgres: DATABASE_URL=postgres://postgres@127.0.0.1:5432/probectl_notify npm start" >&2
  db_args=(--embedded-db=.data/pglite)
fi

if [ ! -f dist/main.js ] || [ -n "$(find src migrations -newer dist/main.js -print -quit)" ]; then
  echo "building..."
  npm run -s build
fi

pids=()
# The service first (it drains against a server that still answers), then the dev server.
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

if [ -z "${TEMPORAL_ADDRESS:-}" ]; then
  port="${TEMPORAL_PORT:-7233}"
  echo "starting the Temporal dev server on 127.0.0.1:$port (UI http://127.0.0.1:${TEMPORAL_UI_PORT:-8233})"
  bash scripts/temporal-dev-server.sh &
  pids+=($!)
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
  for i in $(seq 1 120); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    [ "$i" = 120 ] && { echo "the dev server did not start" >&2; exit 1; }
    sleep 0.5
  done
  sleep 1
fi

# Locally nothing balances load in front of the API: no unready period before it stops (set it to override).
# The workflow-thread preload as the image's entrypoint loads it (PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES).
PROBECTL_NOTIFY_SHUTDOWN_DELAY="${PROBECTL_NOTIFY_SHUTDOWN_DELAY:-0s}" node --require ./dist/runtime/workflow-thread-preload.js dist/main.js all "${db_args[@]}" &
pids+=($!)
wait -n "${pids[@]}"
