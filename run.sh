#!/usr/bin/env bash
# Install Knotwork, apply migrations, load demo data and start it on http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements.txt
mkdir -p instance
# A secret key of this installation's own, made once and kept in instance/ (never committed).
[ -s instance/secret_key ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key
export SECRET_KEY=${SECRET_KEY:-$(cat instance/secret_key)}
export FLASK_APP=app.py
.venv/bin/flask db upgrade
.venv/bin/flask demo seed
echo "Knotwork is starting on http://127.0.0.1:5000 (Ctrl+C stops it)"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT:-5000}"
