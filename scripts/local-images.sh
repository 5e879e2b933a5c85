#!/usr/bin/env bash
# `make local-images`: images equivalent to the stack's defaults, built on this
# machine from Debian packages (scripts/build-test-images.sh, the Docker tier's
# recipes; nothing is pulled), under stable names of their own, the app's wheels
# put in the API image's build context (its containers reach no package index),
# and both recorded in the stack's config:
#
#   hive:postgresImage  hive-infra/pgvector:17        (agnohq/pgvector:16's stand-in)
#   hive:apiBaseImage   hive-infra/python:3.11-bookworm (python:3.11-slim's stand-in)
#
# How they differ from the defaults: PostgreSQL 17 (Debian trixie's, with its
# pgvector) rather than 16, and Debian bookworm's Python 3.11 rather than the
# python.org build. A PostgreSQL major other than the one a stack's data was made
# with is refused by the stack (docs/operations.md), so this is meant for a stack
# that holds no data yet; `make up` runs it by itself only then.
#
# Usage: scripts/local-images.sh STACK   (the environment of scripts/hive-env.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/hive-env.sh
. scripts/hive-env.sh

# dockerd and debootstrap live in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
STACK="${1:?usage: $0 STACK}"
POSTGRES_NAME="hive-infra/pgvector:17"
PYTHON_NAME="hive-infra/python:3.11-bookworm"
WHEELS_TARGET="hive_infra/image/wheels"

say() { echo "local-images: $*"; }
die() {
    echo "local-images: error: $*" >&2
    exit 1
}

docker info >/dev/null 2>&1 || die "no Docker engine answers; fix: bash scripts/dockerd.sh start (as root), or start yours"
if ! command -v debootstrap >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        die "debootstrap is not installed; fix: sudo apt-get install debootstrap"
    fi
    say "apt-get install debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap </dev/null >/dev/null
fi
resolve_pulumi || die "$PULUMI_WHY; fix: make up (finds or builds one)"
resolve_passphrase "$STACK" create || die "$PASSPHRASE_NOTE"

tags="$(bash scripts/build-test-images.sh)"
tag_of() { sed -n "s/^$1=//p" <<<"$tags"; }
docker tag "$(tag_of POSTGRES_IMAGE)" "$POSTGRES_NAME"
docker tag "$(tag_of PYTHON_BASE)" "$PYTHON_NAME"
say "$POSTGRES_NAME ($(tag_of POSTGRES_IMAGE)): PostgreSQL 17 with pgvector from Debian trixie, rather than agnohq/pgvector:16's PostgreSQL 16"
say "$PYTHON_NAME ($(tag_of PYTHON_BASE)): Debian bookworm's Python 3.11 with venv, rather than python:3.11-slim's python.org build"

wheels="$(tag_of WHEELS)"
count=0
for wheel in "$wheels"/*.whl; do
    [ -e "$WHEELS_TARGET/${wheel##*/}" ] || ln "$wheel" "$WHEELS_TARGET/" 2>/dev/null || cp "$wheel" "$WHEELS_TARGET/"
    count=$((count + 1))
done
say "$count wheels of the pinned app in $WHEELS_TARGET (the API image installs from them, with no index)"

"$HIVE_PULUMI" stack select --non-interactive --create "$STACK" >/dev/null
"$HIVE_PULUMI" config set --stack "$STACK" hive:postgresImage "$POSTGRES_NAME" --non-interactive
"$HIVE_PULUMI" config set --stack "$STACK" hive:apiBaseImage "$PYTHON_NAME" --non-interactive
say "stack $STACK: hive:postgresImage=$POSTGRES_NAME, hive:apiBaseImage=$PYTHON_NAME"
