#!/usr/bin/env bash
# The venv `make` runs from: created when missing, (re)installed only when a
# requirement file changed since its last install (a hash of them is kept in
# the venv), else left alone. One line on stdout says which.
#
# Usage: scripts/venv.sh VENV PYTHON
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:?usage: $0 VENV PYTHON}"
PYTHON="${2:?usage: $0 VENV PYTHON}"
FILES=(requirements.txt requirements-dev.txt requirements-lint.txt constraints.txt)
STAMP="$VENV/.hive-requirements.sha256"

digest="$(cd "$ROOT" && { "$PYTHON" -V 2>&1; cat "${FILES[@]}"; } | sha256sum | cut -c1-16)"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$digest" ]; then
    echo "venv: $VENV is up to date (requirements unchanged)"
    exit 0
fi
started=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" || {
        echo "error: \`$PYTHON -m venv $VENV\` failed; fix: install Python 3.11+ with venv (apt-get install python3-venv)" >&2
        exit 1
    }
    what="created"
else
    what="reinstalled (a requirement file changed)"
fi
(cd "$ROOT" && "$VENV/bin/python" -m pip install --disable-pip-version-check -q \
    -r requirements-dev.txt -r requirements-lint.txt -c constraints.txt)
echo "$digest" >"$STAMP"
echo "venv: $VENV $what in $((SECONDS - started)) s"
