#!/usr/bin/env bash
# The test command: builds (the tests that spawn the service run the compiled worker), then runs every jest suite
# against the real Temporal dev server and the local Postgres, but the fault matrix (`npm run test:faults`), the
# long-wait suites of test/setup/long-suites.js (`npm run test:long`) and the cluster suite (`npm run test:cluster`),
# which have their own commands.
#
# Two phases, each with its own dev server and database (jest.config.js, PROBECTL_TEST_PHASE):
#   parallel  every suite not in test/setup/serial-suites.js, two jest workers at a time (most of a suite's time
#             is waiting on the server, timers and sockets, so two share two cores well);
#   serial    the suites listed there, one at a time: timing bounds, pacing rates, a worker's heartbeat and the Node-line checks,
#             which measure the machine and must not share it with another suite.
# Each phase's closing line is printed as `[phase] N passed, M failed`; the last line is the sum, in the plain form
# CI reads. Jest transpiles each file without checking its types (tsconfig.jest.json), so the types of the whole
# project are checked first, once (`npm run typecheck`): a type error counts as one failure. With arguments
# (`npm test -- <path or jest option>`) it is one in-band jest run of what they select, without that check.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build
if [ "$#" -gt 0 ]; then exec npx jest --runInBand "$@"; fi

passed=0; failed=0
echo "== npm test, typecheck (tsc over src, dev, test, bench, scripts)"
t0=$(date +%s)
if npm run -s typecheck; then
  echo "== typecheck: passed in $(( $(date +%s) - t0 ))s"
else
  echo "!! typecheck failed: counted as one failure"
  failed=1
fi
run_phase() {
  local phase=$1; shift
  local log status line p f t0
  log=$(mktemp)
  t0=$(date +%s)
  echo "== npm test, $phase phase"
  set +e
  PROBECTL_TEST_PHASE=$phase npx jest "$@" 2>&1 | sed -u -E "s/^([0-9]+ passed, [0-9]+ failed)$/[$phase] \1/" | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  line=$(grep -E "^\[$phase\] [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n1 || true)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "!! the $phase phase printed no result line (exit $status): counted as one failure"
    p=0; f=1
  else
    line=${line#*] }
    p=${line%% passed*}
    f=${line#*, }; f=${f%% failed*}
    [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  fi
  echo "== $phase phase: $p passed, $f failed in $(( $(date +%s) - t0 ))s"
  passed=$((passed + p)); failed=$((failed + f))
}
run_phase parallel --maxWorkers=2
run_phase serial --runInBand
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
