#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --help]: compile src + bench into test-artifacts/bench-build (ignored by git),
# then run the benchmark. Worker and API run as child processes of that build (node main.js worker|api).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test-artifacts/bench-build
if ! npx tsc -p bench/tsconfig.json --incremental --tsBuildInfoFile "$OUT/.tsbuildinfo"; then
  # src is shared with other work in progress: a type error elsewhere still emits JavaScript.
  echo "bench: tsc reported type errors (above); continuing with the emitted JavaScript" >&2
fi
test -f "$OUT/bench/main.js" || { echo "bench: build failed, $OUT/bench/main.js missing" >&2; exit 1; }
exec node "$OUT/bench/main.js" "$@"
