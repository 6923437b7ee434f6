#!/usr/bin/env bash
# Install Knotwork, apply migrations, load demo data and start it on http://127.0.0.1:5000
# (HOST and PORT change the address; the line printed before start-up names the one really served).
set -euo pipefail
# Files made from here on (instance/, the database and its WAL, the secret key) are the app user's alone.
umask 077
cd "$(dirname "$0")"
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
scripts/bootstrap.sh requirements.txt
mkdir -p instance && chmod 700 instance
# A secret key of this installation's own, made once and kept in instance/ (never committed).
[ -s instance/secret_key ] || .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key
chmod 600 instance/secret_key
export SECRET_KEY=${SECRET_KEY:-$(cat instance/secret_key)}
export FLASK_APP=app.py
.venv/bin/flask db upgrade
.venv/bin/flask demo seed
echo "Knotwork is starting on http://${HOST}:${PORT} (Ctrl+C stops it)"
exec .venv/bin/flask run --host "$HOST" --port "$PORT"
