#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --help]: compile src + bench into test-artifacts/bench-build (ignored by git),
# bundle the workflow code the way `npm run build` does, then run the benchmark. Worker and API run as child
# processes of that build (node main.js worker|api).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test-artifacts/bench-build
npx tsc -p bench/tsconfig.json --incremental --tsBuildInfoFile "$OUT/.tsbuildinfo"
node "$OUT/src/runtime/workflow-bundle.js" "$OUT/src/workflow-bundle.js"
exec node "$OUT/bench/main.js" "$@"
