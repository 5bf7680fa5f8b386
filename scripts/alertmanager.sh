#!/usr/bin/env bash
# Prints the path of an Alertmanager binary for the benchmark (bench/alertmanager.ts), building it when needed.
# Order: $ALERTMANAGER_BIN, then the cache, else build from the Go module into the cache. Progress and the
# build's elapsed time go to stderr; only the path goes to stdout. Exit 3: no Go toolchain (the bench skips).
#
# `go install github.com/prometheus/alertmanager/cmd/alertmanager@v0.35.0` does not work: the web UI's compiled
# files (ui/app/dist, embedded with //go:embed) are not in the module zip. So: download the module source,
# copy it out of the read-only module cache, put a placeholder ui/app/dist in (the bench never opens the UI),
# and `go build ./cmd/alertmanager`.
# Cache: ${PROBECTL_NOTIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probectl-notify}/alertmanager/<version>/
#        src/ (the copied module) and alertmanager (the binary; build.log beside it).
set -euo pipefail

version="${ALERTMANAGER_VERSION:-v0.35.0}"
module=github.com/prometheus/alertmanager
dir="${PROBECTL_NOTIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/probectl-notify}/alertmanager/$version"
bin="$dir/alertmanager"

usable() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${ALERTMANAGER_BIN:-}" ]; then
  if usable "$ALERTMANAGER_BIN"; then echo "$ALERTMANAGER_BIN"; exit 0; fi
  echo "ALERTMANAGER_BIN=$ALERTMANAGER_BIN is not an executable Alertmanager" >&2
  exit 1
fi
if usable "$bin"; then echo "$bin"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "no Go toolchain: cannot build Alertmanager $version (install Go >= 1.26, or set ALERTMANAGER_BIN)" >&2
  exit 3
fi

# Another process may be building it right now: wait for its lock instead of building twice.
mkdir -p "$dir"
exec 9>"$dir/.lock"
if ! flock -n 9; then
  echo "another process is building Alertmanager $version into $dir; waiting for it..." >&2
  flock 9
  if usable "$bin"; then echo "$bin"; exit 0; fi
fi

start=$(date +%s)
echo "building Alertmanager $version from its Go module into $dir (a cold build takes several minutes)..." >&2
log="$dir/build.log"
: >"$log"
src_dir=$(go mod download -json "$module@$version" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$src_dir" ] || [ ! -d "$src_dir" ]; then
  echo "go mod download $module@$version gave no source directory; see $log" >&2
  exit 1
fi
echo "  module source: $src_dir ($(( $(date +%s) - start ))s)" >&2
rm -rf "$dir/src"
cp -r "$src_dir" "$dir/src"
chmod -R u+w "$dir/src"
# The embed directive needs ui/app/dist with at least one file; ui/web.go serves dist/elm and dist/mantine.
for ui in elm mantine; do
  mkdir -p "$dir/src/ui/app/dist/$ui"
  printf '<!doctype html><title>Alertmanager</title><p>UI not built (probectl-notify benchmark build).\n' >"$dir/src/ui/app/dist/$ui/index.html"
done
echo "  copied to $dir/src with a placeholder ui/app/dist; go build ./cmd/alertmanager..." >&2
( while sleep 30; do echo "  ... still building ($(( $(date +%s) - start ))s)" >&2; done ) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT
ldflags="-X github.com/prometheus/common/version.Version=${version#v} -X github.com/prometheus/common/version.BuildUser=probectl-notify-bench"
if (cd "$dir/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -ldflags "$ldflags" -o "$bin.tmp" ./cmd/alertmanager) >>"$log" 2>&1 && usable "$bin.tmp"; then
  mv "$bin.tmp" "$bin"
  elapsed=$(( $(date +%s) - start ))
  echo "$elapsed" >"$dir/build-seconds"
  echo "built $bin in ${elapsed}s (download, copy and go build; reused from now on)" >&2
  echo "$bin"
  exit 0
fi
echo "building Alertmanager $version failed: $(tail -n 5 "$log" | tr '\n' ' ')" >&2
exit 1
