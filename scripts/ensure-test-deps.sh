#!/usr/bin/env bash
# Installs what the test suite needs and a fresh Debian machine lacks:
# Debian's Chromium for the Playwright end-to-end suite (Playwright cannot
# download its own browsers here), PostgreSQL, Redis and HAProxy, which
# the tests and `npm run cluster` start as throwaway processes of their own
# (scripts/services/) on free loopback ports, and promtool (Debian's
# prometheus package), which checks and unit-tests docs/ops/alerts.yml.
set -euo pipefail

has_postgres() {
  # Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin, off PATH.
  local bindir
  bindir="$(pg_config --bindir 2>/dev/null || true)"
  [ -n "$bindir" ] && [ -x "$bindir/postgres" ] && [ -x "$bindir/initdb" ] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
has_postgres || need+=(postgresql)
has redis-server || need+=(redis-server)
has haproxy || need+=(haproxy)
has promtool || need+=(prometheus)

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # The packages' own services (PostgreSQL's main cluster on 5432, Redis on
  # 6379, HAProxy, Prometheus on 9090) are not ours: keep them from starting during the install
  # unless the machine already has a policy for that. The tests never use them.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
