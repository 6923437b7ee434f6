#!/usr/bin/env bash
# Make .venv and install the pinned requirements, only when they changed since the last install.
# Usage: scripts/bootstrap.sh requirements.txt|requirements-dev.txt
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}
python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Knotwork needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)." >&2
    exit 1
  fi
  if ! "$python" -m venv .venv; then
    echo "Could not make a virtual environment. On Debian: sudo apt-get install python3-venv" >&2
    rm -rf .venv
    exit 1
  fi
fi

stamp=".venv/.installed-${requirements%.txt}"
wanted=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing $requirements into .venv ..."
  .venv/bin/pip install --disable-pip-version-check -q -r "$requirements"
  echo "$wanted" > "$stamp"
fi
