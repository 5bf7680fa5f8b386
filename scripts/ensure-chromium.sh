#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the headless Temporal UI test (test/e2e/ui.test.ts).
# Prints the browser's path on stdout. Installs with apt-get when it is missing (root, or sudo without a
# password); fails loudly otherwise: the UI test never skips for a missing browser.
# Override the browser with PROBECTL_CHROMIUM=/path/to/chromium.
set -euo pipefail

usable() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${PROBECTL_CHROMIUM:-}" ]; then
  if usable "$PROBECTL_CHROMIUM"; then echo "$PROBECTL_CHROMIUM"; exit 0; fi
  echo "PROBECTL_CHROMIUM=$PROBECTL_CHROMIUM is not an executable browser" >&2
  exit 1
fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if usable "$candidate"; then echo "$candidate"; exit 0; fi
done

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "chromium is not installed and this user cannot install it: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi

echo "installing Debian's chromium with apt-get (one time)..." >&2
export DEBIAN_FRONTEND=noninteractive
# A lock held by another apt run is waited for, not treated as a failure.
apt_opts=(-o DPkg::Lock::Timeout=300 -y -q --no-install-recommends)
"${as_root[@]}" apt-get update -q >&2 || echo "apt-get update failed; trying the cached package lists" >&2
"${as_root[@]}" apt-get install "${apt_opts[@]}" chromium fonts-liberation >&2
if usable /usr/bin/chromium; then echo /usr/bin/chromium; exit 0; fi
echo "apt-get finished but /usr/bin/chromium does not run" >&2
exit 1
