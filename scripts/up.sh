#!/usr/bin/env bash
# `make up`: the whole set-up from a fresh clone, one printed line per step,
# each skipped when done, each failing with the fix when it cannot go on:
# the venv, the Pulumi CLI (found, else built), the secrets passphrase, a
# Docker engine, the stack selected or created, doctor (and, when the default
# images cannot be had and the stack holds no data, the local images), `pulumi
# up` (asks as Pulumi does; YES=1 runs unattended), then `status`.
#
# Environment (the Makefile passes them): STACK, VENV, PYTHON, YES.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/hive-env.sh
. scripts/hive-env.sh

# dockerd and debootstrap live in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
STACK="${STACK:-dev}"
VENV="${VENV:-venv}"
PYTHON="${PYTHON:-python3}"
assume_yes=()
case "${YES:-}" in 1 | yes | true) assume_yes=(--yes) ;; esac

step() { echo "== $*"; }
fail() {
    echo "error: $1" >&2
    [ -z "${2:-}" ] || echo "fix: $2" >&2
    exit 1
}

if [ ${#assume_yes[@]} -eq 0 ] && [ ! -t 0 ]; then
    fail "no terminal to ask at before \`pulumi up\`" "make up YES=1 (runs unattended, as pulumi up --yes)"
fi

step "$(bash scripts/venv.sh "$VENV" "$PYTHON" | tail -n1)"

if ! resolve_pulumi; then
    command -v go >/dev/null ||
        fail "$PULUMI_WHY, and no Go toolchain to build the pinned one with" \
            "install Go 1.26+ (then \`make up\` builds it), install Pulumi 3.x at least $(pinned_pulumi_version), or point HIVE_PULUMI at one"
    step "Pulumi CLI: none found; building $(pinned_pulumi_version) from Go modules (make engine's build: 11-14 min and about 6 GB once, Go 1.26+) ..."
    bash scripts/build-pulumi.sh >/dev/null
    resolve_pulumi || fail "$PULUMI_WHY after the build" "see scripts/build-pulumi.sh's log under ~/.cache/hive-infra/pulumi"
fi
step "Pulumi CLI: $HIVE_PULUMI (from $PULUMI_SOURCE)"

resolve_passphrase "$STACK" create || fail "$PASSPHRASE_NOTE"
step "passphrase: $PASSPHRASE_NOTE"

# Started only as root on a machine with no init system; otherwise what to do is
# printed and doctor's Docker check decides (external mode needs no engine).
if pid="$(bash scripts/dockerd.sh start)"; then
    step "Docker engine: ${pid:+started here (pid $pid), }$(docker info --format '{{.ServerVersion}}' 2>/dev/null) answers"
else
    step "Docker engine: none answers (see above); doctor says whether this stack needs one"
fi

# `stack ls` tells an existing stack (a plain `stack select` of a missing one may create it).
if "$HIVE_PULUMI" stack ls --json --non-interactive 2>/dev/null |
    "$VENV/bin/python" -c 'import json, sys; sys.exit(sys.argv[1] not in {s["name"].rsplit("/", 1)[-1] for s in json.load(sys.stdin)})' "${STACK##*/}"; then
    "$HIVE_PULUMI" stack select --non-interactive "$STACK" >/dev/null
    step "stack $STACK: selected"
else
    "$HIVE_PULUMI" stack select --non-interactive --create "$STACK" >/dev/null
    step "stack $STACK: created"
fi

# Doctor's image check names `make local-images` as the fix only for a default
# image that cannot be had on a stack that holds no data: then it is run here.
doctor() { "$VENV/bin/python" -m hive_infra doctor --stack "$STACK"; }
step "doctor"
if ! report="$(doctor)"; then
    echo "$report"
    failed="$(grep '^FAIL' <<<"$report" || true)"
    if [ -n "$failed" ] && ! grep -qv '^FAIL image .*fix: make local-images' <<<"$failed"; then
        step "local images: the default images cannot be pulled and stack $STACK holds no data: building equivalents here"
        bash scripts/local-images.sh "$STACK"
        step "doctor (again)"
        doctor || fail "doctor found a problem (above)" "the fix on each FAIL line, then \`make up\` again"
    else
        fail "doctor found a problem (above)" "the fix on each FAIL line, then \`make up\` again"
    fi
else
    echo "$report"
fi

step "pulumi up --stack $STACK ${assume_yes[*]}"
"$HIVE_PULUMI" up --stack "$STACK" "${assume_yes[@]}"

step "status"
"$VENV/bin/python" -m hive_infra status --stack "$STACK"
