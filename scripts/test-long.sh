#!/usr/bin/env bash
# The long-wait suites (`npm run test:long`): builds (the SIGKILL and SIGTERM suites run the compiled service), then
# runs jest.long.config.js, which picks the files of test/setup/long-suites.js — worker kills in crash windows, the
# SIGTERM drain, the 10,000-signal continue-as-new, per-connector reconciliation over 200 incidents — one at a time,
# as `npm test`'s serial phase runs such suites.
# Same set-up and closing line `N passed, M failed` as `npm test`. Extra arguments go to jest and narrow within those
# files.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
exec npx jest --runInBand -c jest.long.config.js "$@"
