#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --help]: compile src + bench into test-artifacts/bench-build (ignored by git),
# bundle the workflow code the way `npm run build` does, then run the benchmark. Worker and API run as child
# processes of that build (node main.js worker|api), the floor worker likewise (node bench/floor/worker.js).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test-artifacts/bench-build
npx tsc -p bench/tsconfig.json --incremental --tsBuildInfoFile "$OUT/.tsbuildinfo"
node "$OUT/src/runtime/workflow-bundle.js" "$OUT/src/workflow-bundle.js"
node "$OUT/bench/floor/bundle.js"   # the Temporal floor's workflow (bench/floor/), for its own worker
# npm run bench:replay: the workflow thread's CPU per run from replaying the recorded histories (bench/replay-cpu.ts).
if [ "${1:-}" = "--replay-cpu" ]; then
  shift
  exec node "$OUT/bench/replay-cpu.js" "$@"
fi
exec node "$OUT/bench/main.js" "$@"
