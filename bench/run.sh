#!/usr/bin/env bash
# One command for the page benchmark on the generated clinic: bench/run.sh [sqlite|postgresql] [pages.py options]
# The databases are made once (see bench/README.md); this only reads them (plus the audit rows pages write).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
case "${1:-sqlite}" in
  sqlite) URL=${BENCH_SQLITE_URL:-sqlite:////tmp/knotwork-bench.sqlite} ;;
  postgresql) URL=${BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/knotwork_bench} ;;
  *) echo "usage: bench/run.sh [sqlite|postgresql] [pages.py options]" >&2; exit 2 ;;
esac
shift || true
exec "$PYTHON" bench/pages.py --database-url "$URL" "$@"
