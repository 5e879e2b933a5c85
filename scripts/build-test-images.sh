#!/usr/bin/env bash
# Builds the Docker tier's images on this machine, from Debian packages and PyPI
# only: no image is ever pulled (no registry is reachable from the project's
# machines, and a test must never pull).
#
#   hive-test/debian:bookworm-<h>   a debootstrap --variant=minbase root file
#   hive-test/debian:trixie-<h>     system, `docker import`ed
#   hive-test/pgvector:17-<h>       trixie's postgresql-17 + postgresql-17-pgvector
#                                   behind the official image's entrypoint contract
#                                   (tests/docker/images/postgres)
#   hive-test/python:3.11-<h>       bookworm's Python 3.11 with venv, the tier's
#                                   apiBaseImage (tests/docker/images/python): the
#                                   stack builds its API image on it
# and, for that build, the wheels of the pinned automagik-hive (hive_infra/image's
# pins) built here from PyPI, since the containers reach no index (WHEELS, a folder
# the tier copies into the build context's wheels/).
#
# Each tag carries a hash of everything its image is made from (the recipe, the
# files of its build context, the base's tag, the pins), so a second run finds
# every image and builds nothing ("reused"); change an input and that image (and
# those built on it) is built again under a new tag. Inside `docker build`,
# apt-get reaches only Debian's mirror; the wheels come from PyPI on the host.
#
# Usage: build-test-images.sh           build what is missing, then print KEY=TAG lines
#        build-test-images.sh --print   print KEY=TAG lines; exit 1 if one is not built
# Keys: POSTGRES_IMAGE, PYTHON_BASE, WHEELS, BASE_BOOKWORM, BASE_TRIXIE. Progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES="$ROOT/tests/docker/images"
# The pins of the API image the stack builds.
PINS="$ROOT/hive_infra/image"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/hive-infra/test-images"
# The mirror this machine's apt uses (debootstrap needs one; the images' apt keeps it).
MIRROR="${HIVE_DEBIAN_MIRROR:-}"
# Bump to rebuild every image from scratch (the recipe of the base changed).
BASE_RECIPE="minbase-v1"
LABEL="org.automagik-hive.test-image"

log() { echo "build-test-images: $*" >&2; }
# Temporary folders, removed however the script ends.
TEMPS=()
cleanup() { [ ${#TEMPS[@]} -eq 0 ] || rm -rf "${TEMPS[@]}"; }
trap cleanup EXIT
temp_dir() { mktemp -d "${TMPDIR:-/tmp}/hive-$1.XXXXXX"; }
die() { log "error: $*"; exit 1; }

debian_mirror() {
    if [ -n "$MIRROR" ]; then
        echo "$MIRROR"
        return
    fi
    local found
    found="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
    if [ -z "$found" ]; then
        found="$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)"
    fi
    echo "${found:-http://deb.debian.org/debian}"
}

# sha256 of the arguments' text and of the named files' contents, 12 hex digits.
hash_of() {
    local text="$1"
    shift
    {
        printf '%s\n' "$text"
        local f
        for f in "$@"; do
            printf '== %s\n' "${f#"$ROOT"/}"
            cat "$f"
        done
    } | sha256sum | cut -c1-12
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

base_tag() { echo "hive-test/debian:$1-$(hash_of "$BASE_RECIPE $1 $(debian_mirror)")"; }

app_requirements() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PINS/requirements-app.txt" | tr '\n' ' '; }

postgres_tag() {
    echo "hive-test/pgvector:17-$(hash_of "$(base_tag trixie)" "$IMAGES/postgres/Dockerfile" "$IMAGES/postgres/docker-entrypoint.sh")"
}

python_tag() {
    echo "hive-test/python:3.11-$(hash_of "$(base_tag bookworm)" "$IMAGES/python/Dockerfile")"
}

wheels_dir() {
    python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
        die "python3 is $(python3 -V 2>&1): the API image's wheels must be built by Python 3.11 (bookworm's)"
    echo "$CACHE/wheels/$(hash_of "$(app_requirements) $(python3 -V 2>&1)" "$PINS/constraints-app.txt")"
}

print_tags() {
    echo "BASE_BOOKWORM=$(base_tag bookworm)"
    echo "BASE_TRIXIE=$(base_tag trixie)"
    echo "POSTGRES_IMAGE=$(postgres_tag)"
    echo "PYTHON_BASE=$(python_tag)"
    echo "WHEELS=$(wheels_dir)"
}

ensure_base() {
    local suite="$1" tag rootfs started
    tag="$(base_tag "$suite")"
    if have_image "$tag"; then
        log "$tag reused"
        return
    fi
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    started=$SECONDS
    rootfs="$(temp_dir "rootfs-$suite")"
    TEMPS+=("$rootfs")
    log "$tag: debootstrap --variant=minbase $suite from $(debian_mirror) ..."
    if ! debootstrap --variant=minbase "$suite" "$rootfs" "$(debian_mirror)" >"$CACHE/debootstrap-$suite.log" 2>&1; then
        tail -n 20 "$CACHE/debootstrap-$suite.log" >&2
        die "debootstrap $suite failed (log: $CACHE/debootstrap-$suite.log)"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --change "LABEL $LABEL=$tag" - "$tag" >/dev/null
    rm -rf "$rootfs"
    log "$tag built in $((SECONDS - started)) s"
}

# The app and everything it pulls in, as wheels for Python 3.11 (bookworm's), built
# here from PyPI once per set of pins.
ensure_wheels() {
    local dir
    dir="$(wheels_dir)"
    if [ ! -f "$dir/.complete" ]; then
        log "wheels for $(app_requirements)into $dir ..."
        rm -rf "$dir"
        mkdir -p "$dir"
        # shellcheck disable=SC2046 # one word per requirement
        if ! python3 -m pip wheel -q --disable-pip-version-check --no-input --wheel-dir "$dir" \
            -c "$PINS/constraints-app.txt" $(app_requirements) >"$dir.log" 2>&1; then
            tail -n 20 "$dir.log" >&2
            die "pip wheel failed (log: $dir.log)"
        fi
        touch "$dir/.complete"
    fi
}

# ensure_image TAG CONTEXT BASE [--build-arg ...]: docker build of CONTEXT (a
# folder we may add files to) FROM BASE, unless TAG exists.
ensure_image() {
    local tag="$1" context="$2" base="$3" started
    shift 3
    if have_image "$tag"; then
        log "$tag reused"
        return
    fi
    have_image "$base" || die "$base is missing: it is built first, and never pulled"
    started=$SECONDS
    log "$tag: docker build ..."
    if ! DOCKER_BUILDKIT=0 docker build --quiet --pull=false --label "$LABEL=$tag" --build-arg "BASE=$base" "$@" \
        -t "$tag" "$context" >"$CACHE/build-${tag//[:\/]/_}.log" 2>&1; then
        tail -n 30 "$CACHE/build-${tag//[:\/]/_}.log" >&2
        die "docker build of $tag failed (log: $CACHE/build-${tag//[:\/]/_}.log)"
    fi
    log "$tag built in $((SECONDS - started)) s"
}

main() {
    if [ "${1:-}" = "--print" ]; then
        local line missing=0
        while IFS= read -r line; do
            echo "$line"
            if [ "${line%%=*}" = WHEELS ]; then
                [ -f "${line#*=}/.complete" ] || { log "${line#*=} holds no wheels yet (make images)"; missing=1; }
            else
                have_image "${line#*=}" || { log "${line#*=} is not built (make images)"; missing=1; }
            fi
        done < <(print_tags)
        return "$missing"
    fi
    [ $# -eq 0 ] || die "usage: $0 [--print]"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
    mkdir -p "$CACHE"

    ensure_base trixie
    ensure_base bookworm

    ensure_image "$(postgres_tag)" "$IMAGES/postgres" "$(base_tag trixie)"

    ensure_image "$(python_tag)" "$IMAGES/python" "$(base_tag bookworm)"
    ensure_wheels

    print_tags
}

main "$@"
