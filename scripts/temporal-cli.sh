#!/usr/bin/env bash
# Prints the path of a Temporal CLI binary (the dev server), building it when needed.
# Order: $TEMPORAL_CLI, then `temporal` on PATH, then the cache, else `go install` into the cache
# (tries v1.5.1, then v1.5.0 and v1.4.1). Progress goes to stderr; only the path goes to stdout.
# Cache: ${PROBECTL_NOTIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probectl-notify}/temporal-cli/<version>/temporal
set -euo pipefail

cache_root="${PROBECTL_NOTIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probectl-notify}/temporal-cli"
versions=(v1.5.1 v1.5.0 v1.4.1)

usable() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${TEMPORAL_CLI:-}" ]; then
  if usable "$TEMPORAL_CLI"; then echo "$TEMPORAL_CLI"; exit 0; fi
  echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable Temporal CLI" >&2
  exit 1
fi
if command -v temporal >/dev/null 2>&1 && usable "$(command -v temporal)"; then
  command -v temporal; exit 0
fi
for v in "${versions[@]}"; do
  if usable "$cache_root/$v/temporal"; then echo "$cache_root/$v/temporal"; exit 0; fi
done

if ! command -v go >/dev/null 2>&1; then
  echo "no Temporal CLI found and no Go toolchain to build one." >&2
  echo "Install the Temporal CLI and set TEMPORAL_CLI, or install Go >= 1.25 and re-run." >&2
  exit 1
fi

errors=()
for v in "${versions[@]}"; do
  dir="$cache_root/$v"
  mkdir -p "$dir"
  echo "building the Temporal CLI $v with go install into $dir (a cold build takes several minutes)..." >&2
  start=$(date +%s)
  log="$dir/build.log"
  if CGO_ENABLED=0 GOBIN="$dir" go install "github.com/temporalio/cli/cmd/temporal@$v" >"$log" 2>&1 &
  then
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      sleep 30
      kill -0 "$pid" 2>/dev/null && echo "  ... still building ($(( $(date +%s) - start ))s)" >&2
    done
    if wait "$pid" && usable "$dir/temporal"; then
      echo "built $dir/temporal in $(( $(date +%s) - start ))s" >&2
      echo "$dir/temporal"
      exit 0
    fi
  fi
  errors+=("$v: $(tail -n 5 "$log" | tr '\n' ' ')")
  echo "building $v failed; see $log" >&2
done
echo "could not build the Temporal CLI:" >&2
printf '  %s\n' "${errors[@]}" >&2
exit 1
