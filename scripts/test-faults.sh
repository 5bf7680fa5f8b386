#!/usr/bin/env bash
# The fault matrix (`npm run test:faults`): builds (the SIGKILL scenarios run the compiled worker), then runs
# test/faults with jest.faults.config.js, reduced unless FAULTS_MODE=full (`npm run faults` also names the two
# pacing bursts of test/e2e at full size). Jest options pass through; a path argument (test/...) replaces the
# default path test/faults.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
paths=test/faults
for a in "$@"; do case "$a" in test/*) paths= ;; esac; done
# shellcheck disable=SC2086 # $paths is one path or nothing
exec npx jest --runInBand -c jest.faults.config.js $paths "$@"
