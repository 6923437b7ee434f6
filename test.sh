#!/usr/bin/env bash
# Run the whole test suite: on SQLite, again on PostgreSQL (a throwaway database), and the browser tests.
# Extra arguments go to every pytest run. Outside CI a part that cannot run is reported loudly;
# with CI=true it is a failure.
set -uo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements-dev.txt || exit 1

# Lint first: a style or layering slip fails in seconds, before the slow parts.
echo "=== lint ==="
.venv/bin/ruff check . || exit 1
.venv/bin/ruff format --check . || exit 1
.venv/bin/lint-imports || exit 1

export KNOTWORK_RESULTS=test-results
rm -rf "$KNOTWORK_RESULTS" && mkdir -p "$KNOTWORK_RESULTS"
POSTGRES_URL=${KNOTWORK_POSTGRES_SERVER:-postgresql://postgres@127.0.0.1:5432/postgres}
failed=() not_run=()

run_part() {  # name, then pytest arguments
  local name=$1; shift
  echo; echo "=== $name ==="
  .venv/bin/pytest "$@" --junitxml="$KNOTWORK_RESULTS/$name.xml"
  local code=$?
  # Exit code 5 means no test ran: that is a failure too.
  [ $code -eq 0 ] || failed+=("$name (pytest exit $code)")
}

postgres_up() { .venv/bin/python scripts/postgres_ready.py "$POSTGRES_URL" 2>/dev/null; }

# SQLite under a far-off host time zone and a clinic zone behind UTC: nothing may read the host's clock.
TZ=Pacific/Kiritimati CLINIC_TIMEZONE=America/New_York run_part sqlite -m "not e2e" "$@"

if ! postgres_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "PostgreSQL is down; starting it ..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do postgres_up && break; sleep 1; done
fi
if postgres_up; then
  KNOTWORK_TEST_POSTGRES=$POSTGRES_URL run_part postgresql -m "not e2e" "$@"
else
  not_run+=("postgresql: no server at $POSTGRES_URL (Debian: apt-get install postgresql)")
fi

if { [ ! -x /usr/bin/chromium ] || ! command -v pdftoppm >/dev/null; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium and poppler-utils (PDF checks) for the browser tests ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils) >/dev/null || true
fi
if [ -x /usr/bin/chromium ]; then
  run_part browser -m e2e "$@"
else
  not_run+=("browser: /usr/bin/chromium is missing (Debian: apt-get install chromium)")
fi

echo
echo "=== summary ==="
for part in "${failed[@]}"; do echo "FAILED: $part"; done
for part in "${not_run[@]}"; do echo "NOT RUN: $part"; done
.venv/bin/python scripts/junit_totals.py "$KNOTWORK_RESULTS"/*.xml
totals_ok=$?
if [ ${#failed[@]} -gt 0 ] || [ $totals_ok -ne 0 ]; then
  exit 1
fi
if [ ${#not_run[@]} -gt 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "In CI every part must run."
    exit 1
  fi
  echo "!!! WARNING: part of the suite did not run (see NOT RUN above). The result is incomplete. !!!"
fi
exit 0
