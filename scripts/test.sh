#!/usr/bin/env bash
# The test command: builds (the SIGKILL tests run the compiled worker), then runs every jest suite against the
# real Temporal dev server and the local Postgres, but the fault matrix (`npm run test:faults`) and the cluster
# suite (`npm run test:cluster`), which have their own commands. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
exec npx jest --runInBand "$@"
