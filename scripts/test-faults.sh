#!/usr/bin/env bash
# The fault matrix (`npm run test:faults`): builds (the SIGKILL scenarios run the compiled worker), then runs
# jest.faults.config.js, which picks test/faults (and, with FAULTS_MODE=full as `npm run faults` sets it, the two
# pacing bursts of test/e2e). Extra arguments go to jest and narrow within those files.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
exec npx jest --runInBand -c jest.faults.config.js "$@"
