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
#   hive-test/hive-api:<app>-<h>    bookworm's Python 3.11 with the pinned
#                                   automagik-hive, installed from wheels built on
#                                   the host (tests/docker/images/api)
#
# Each tag carries a hash of everything its image is made from (the recipe, the
# files of its build context, the base's tag, the pins), so a second run finds
# every image and builds nothing ("reused"); change an input and that image (and
# those built on it) is built again under a new tag. Inside `docker build`,
# apt-get reaches only Debian's mirror; the wheels come from PyPI on the host.
#
# Usage: build-test-images.sh           build what is missing, then print KEY=TAG lines
#        build-test-images.sh --print   print KEY=TAG lines; exit 1 if one is not built
# Keys: POSTGRES_IMAGE, API_IMAGE, BASE_BOOKWORM, BASE_TRIXIE. Progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES="$ROOT/tests/docker/images"
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

app_version() {
    sed -n 's/^automagik-hive==\([^[:space:]]*\).*/\1/p' "$ROOT/requirements-app.txt" | head -n1
}

app_requirements() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ROOT/requirements-app.txt" | tr '\n' ' '; }

postgres_tag() {
    echo "hive-test/pgvector:17-$(hash_of "$(base_tag trixie)" "$IMAGES/postgres/Dockerfile" "$IMAGES/postgres/docker-entrypoint.sh")"
}

api_tag() {
    local h
    h="$(hash_of "$(base_tag bookworm) $(app_requirements)" "$IMAGES/api/Dockerfile" "$IMAGES/api/make-project.sh" \
        "$ROOT/constraints-app.txt" "$ROOT/requirements-app.txt")"
    echo "hive-test/hive-api:$(app_version)-$h"
}

print_tags() {
    echo "BASE_BOOKWORM=$(base_tag bookworm)"
    echo "BASE_TRIXIE=$(base_tag trixie)"
    echo "POSTGRES_IMAGE=$(postgres_tag)"
    echo "API_IMAGE=$(api_tag)"
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
    local key dir
    python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
        die "python3 is $(python3 -V 2>&1): the API image's wheels must be built by Python 3.11 (bookworm's)"
    key="$(hash_of "$(app_requirements) $(python3 -V 2>&1)" "$ROOT/constraints-app.txt")"
    dir="$CACHE/wheels/$key"
    if [ ! -f "$dir/.complete" ]; then
        log "wheels for $(app_requirements)into $dir ..."
        rm -rf "$dir"
        mkdir -p "$dir"
        # shellcheck disable=SC2046 # one word per requirement
        if ! python3 -m pip wheel -q --disable-pip-version-check --no-input --wheel-dir "$dir" \
            -c "$ROOT/constraints-app.txt" $(app_requirements) >"$CACHE/wheels-$key.log" 2>&1; then
            tail -n 20 "$CACHE/wheels-$key.log" >&2
            die "pip wheel failed (log: $CACHE/wheels-$key.log)"
        fi
        touch "$dir/.complete"
    fi
    echo "$dir"
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
            have_image "${line#*=}" || { log "${line#*=} is not built (make images)"; missing=1; }
        done < <(print_tags)
        return "$missing"
    fi
    [ $# -eq 0 ] || die "usage: $0 [--print]"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
    mkdir -p "$CACHE"

    ensure_base trixie
    ensure_base bookworm

    ensure_image "$(postgres_tag)" "$IMAGES/postgres" "$(base_tag trixie)"

    local wheels context
    wheels="$(ensure_wheels)"
    context="$(temp_dir api-context)"
    TEMPS+=("$context")
    cp "$IMAGES/api/Dockerfile" "$IMAGES/api/make-project.sh" "$ROOT/constraints-app.txt" "$context/"
    cp -rl "$wheels" "$context/wheels" 2>/dev/null || cp -r "$wheels" "$context/wheels"
    rm -f "$context/wheels/.complete"
    ensure_image "$(api_tag)" "$context" "$(base_tag bookworm)" --build-arg "APP_REQUIREMENTS=$(app_requirements)"

    print_tags
}

main "$@"
