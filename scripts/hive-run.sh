#!/usr/bin/env bash
# Runs one command of a `make` target with the Pulumi CLI and passphrase
# `make up` uses (scripts/hive-env.sh): HIVE_PULUMI set and its folder first on
# PATH, and the stack's generated passphrase file when the user set none. A
# first word `pulumi` is that CLI.
#
# Usage: STACK=dev scripts/hive-run.sh pulumi preview --stack dev
#        STACK=dev scripts/hive-run.sh venv/bin/python -m hive_infra status --stack dev
set -euo pipefail
# shellcheck source=scripts/hive-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/hive-env.sh"

[ $# -gt 0 ] || { echo "usage: STACK=name $0 COMMAND [ARG...]" >&2; exit 2; }
if ! resolve_pulumi; then
    echo "error: $PULUMI_WHY; fix: \`make up\` finds or builds one (or \`make engine\`), or point HIVE_PULUMI at one" >&2
    exit 1
fi
# A missing passphrase is left to doctor and pulumi, which say so with the fix.
resolve_passphrase "${STACK:-dev}" reuse || true
if [ "$1" = pulumi ]; then
    shift
    exec "$HIVE_PULUMI" "$@"
fi
exec "$@"
