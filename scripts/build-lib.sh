# shellcheck shell=bash disable=SC2154 # me, pins_file, log_file and work come from the sourcing script
# Helpers shared by scripts/build-kubernetes.sh and
# scripts/build-pulumi-kubernetes.sh (sourced, not run): the same conventions
# as scripts/build-pulumi.sh (pins file, cache keyed by a hash of the inputs,
# go output in log files, a build renamed into place only when complete).
# The sourcing script sets `me` (the name in messages) before sourcing, and
# `pins_file`, `log_file` and `work` before calling pin, run, retry or step.

log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$me" "$*" >&2
    exit 1
}

# pin KEY: the value of KEY=VALUE in the pins file; dies if absent or odd.
pin() {
    local value
    value=$(sed -n "s/^$1=//p" "$pins_file")
    [ -n "$value" ] || die "$pins_file has no value for $1"
    case "$value" in
    *[[:space:]\"\'\$]*) die "$pins_file: $1 must be one plain word, got '$value'" ;;
    esac
    printf '%s' "$value"
}

# cache_dir NAME: the absolute cache folder for NAME (HIVE_<NAME>_CACHE or
# ~/.cache/hive-infra/NAME), NAME in lower case.
cache_dir() {
    local var root
    var="HIVE_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')_CACHE"
    root=${!var:-${XDG_CACHE_HOME:-$HOME/.cache}/hive-infra/$1}
    case "$root" in
    /*) printf '%s' "$root" ;;
    *) printf '%s' "$PWD/$root" ;;
    esac
}

# recipe_hash FILE...: 12 hex digits of the hash of the files' contents, less
# their comment-only lines (a comment edit does not invalidate the cache).
recipe_hash() { cat "$@" | grep -v '^[[:space:]]*#' | sha256sum | cut -c1-12; }

# need_go: dies unless a Go 1.26+ toolchain is on PATH; sets go_version and the
# environment every build here uses (no toolchain download, no cgo, no VCS stamp).
need_go() {
    command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go 1.26 or later"
    go_version=$(go env GOVERSION) || die "'go env GOVERSION' failed"
    if [[ ! "$go_version" =~ ^go([0-9]+)\.([0-9]+) ]]; then
        die "cannot read the Go version from '$go_version'"
    fi
    if [ "${BASH_REMATCH[1]}" -lt 1 ] || { [ "${BASH_REMATCH[1]}" -eq 1 ] && [ "${BASH_REMATCH[2]}" -lt 26 ]; }; then
        die "$go_version is too old: the pinned modules need Go 1.26 or later"
    fi
    command -v sha256sum >/dev/null 2>&1 || die "sha256sum (coreutils) is not on PATH"
    export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod"
}

# run WHAT CMD...: runs CMD with its output in the log; on failure shows the
# log's tail and dies naming WHAT. In the background and waited for, so that a
# signal stops the build at once.
run() {
    local what=$1 start
    shift
    start=$(wc -c <"$log_file")
    printf '\n[%s] $ %s\n' "$(date +%T)" "$*" >>"$log_file"
    "$@" >>"$log_file" 2>&1 &
    if ! wait "$!"; then
        tail -c "+$((start + 1))" "$log_file" | tail -n 40 >&2
        die "$what failed (full log: $log_file)"
    fi
}

# retry WHAT CMD...: like run, for network steps: 3 attempts, 5 s then 15 s
# apart, with 16 downloads at a time (they are latency-bound).
retry() {
    local what=$1 attempt=1 delay=5 start
    shift
    while :; do
        start=$(wc -c <"$log_file")
        printf '\n[%s] $ %s\n' "$(date +%T)" "$*" >>"$log_file"
        GOMAXPROCS=16 "$@" >>"$log_file" 2>&1 &
        if wait "$!"; then
            return 0
        fi
        if [ "$attempt" -ge 3 ]; then
            tail -c "+$((start + 1))" "$log_file" | tail -n 40 >&2
            die "$what: failed after $attempt attempts (full log: $log_file)"
        fi
        log "$what: attempt $attempt failed; retrying in ${delay}s"
        sleep "$delay"
        attempt=$((attempt + 1))
        delay=$((delay * 3))
    done
}

# step NAME CMD...: runs CMD and records how long it took in $work/timings.
step() {
    local name=$1 start=$SECONDS took
    shift
    log "[$name] ..."
    "$@"
    took=$((SECONDS - start))
    echo "$name ${took}s" >>"$work/timings"
    log "[$name] done in ${took}s"
}

# finish_build OUT DEST CHECK: moves the complete build OUT to DEST (replacing
# an incomplete one; a build that finished first in between is kept). CHECK is
# the function that tells a complete folder.
finish_build() {
    local out=$1 dest=$2 check=$3
    "$check" "$out" || die "internal error: the build finished incomplete"
    mkdir -p "$(dirname "$dest")"
    if [ -e "$dest" ] && ! "$check" "$dest"; then
        rm -rf "$dest"
    fi
    if ! mv -T "$out" "$dest" 2>/dev/null; then
        "$check" "$dest" || die "cannot move the build into $dest"
    fi
}
