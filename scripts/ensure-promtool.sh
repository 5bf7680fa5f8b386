#!/usr/bin/env bash
# Makes sure promtool (Debian's prometheus package) is installed for the alert-rule tests
# (test/deploy/*.test.ts). Prints promtool's path on stdout. Installs with apt-get when it is missing (root,
# or sudo without a password); fails loudly otherwise: those tests never skip for a missing promtool.
# Only the binary is needed: the Prometheus server the package brings is not started (and, where systemd
# runs, is disabled right after the install).
# Override with PROBECTL_PROMTOOL=/path/to/promtool.
set -euo pipefail

usable() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if [ -n "${PROBECTL_PROMTOOL:-}" ]; then
  if usable "$PROBECTL_PROMTOOL"; then echo "$PROBECTL_PROMTOOL"; exit 0; fi
  echo "PROBECTL_PROMTOOL=$PROBECTL_PROMTOOL is not an executable promtool" >&2
  exit 1
fi
for candidate in "$(command -v promtool 2>/dev/null || true)" /usr/bin/promtool; do
  if [ -n "$candidate" ] && usable "$candidate"; then echo "$candidate"; exit 0; fi
done

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "promtool is not installed and this user cannot install it: run 'apt-get install -y prometheus' as root" >&2
  exit 1
fi

echo "installing Debian's prometheus package for promtool with apt-get (one time)..." >&2
export DEBIAN_FRONTEND=noninteractive
# A lock held by another apt run is waited for, not treated as a failure.
apt_opts=(-o DPkg::Lock::Timeout=300 -y -q --no-install-recommends)
"${as_root[@]}" apt-get update -q >&2 || echo "apt-get update failed; trying the cached package lists" >&2
"${as_root[@]}" apt-get install "${apt_opts[@]}" prometheus >&2
# The package enables a prometheus service; only promtool is wanted here.
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
  "${as_root[@]}" systemctl disable --now prometheus.service >&2 || true
fi
if usable /usr/bin/promtool; then echo /usr/bin/promtool; exit 0; fi
echo "apt-get finished but /usr/bin/promtool does not run" >&2
exit 1
