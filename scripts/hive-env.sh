# shellcheck shell=bash disable=SC2034 # PULUMI_SOURCE, PULUMI_WHY and PASSPHRASE_NOTE are for the sourcing script
# Sourced by scripts/hive-run.sh and scripts/up.sh (not run): which Pulumi CLI
# every `make` target and doctor use, and the stack's secrets passphrase.
#
# resolve_pulumi: sets HIVE_PULUMI (the CLI doctor and the commands run) and
#   puts its folder first on PATH (the cached build's plugins live beside it).
#   In order: $HIVE_PULUMI; `pulumi` on PATH when it is 3.x at least the pinned
#   version (scripts/pulumi-pins.env); the pinned build in the cache
#   (scripts/build-pulumi.sh --print-bin). Returns 1 when none is found,
#   PULUMI_WHY saying why.
# resolve_passphrase STACK MODE: when neither PULUMI_CONFIG_PASSPHRASE nor
#   PULUMI_CONFIG_PASSPHRASE_FILE is set (a user's own setting always wins) and
#   the backend keeps the secrets with a passphrase, exports
#   PULUMI_CONFIG_PASSPHRASE_FILE at the stack's generated file. MODE create
#   makes that file (0600) for a stack that has no passphrase yet; MODE reuse
#   only uses one that exists. Sets PASSPHRASE_NOTE to one line for the user;
#   returns 1 when a passphrase is needed and none can be had. The passphrase
#   itself is never printed.

HIVE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The pinned CLI version (x.y.z), from the pins the engine is built at.
pinned_pulumi_version() { sed -n 's/^PULUMI_VERSION=//p' "$HIVE_ROOT/scripts/pulumi-pins.env"; }

# True when version $1 (x.y.z, an optional leading v) is 3.x and at least $2.
version_supported() {
    local have="${1#v}" want="$2"
    have="${have%%[-+]*}"
    [[ "$have" =~ ^3\.[0-9]+\.[0-9]+$ ]] || return 1
    [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]
}

use_pulumi() {
    HIVE_PULUMI="$1"
    PULUMI_SOURCE="$2"
    export HIVE_PULUMI
    PATH="$(dirname "$1"):$PATH"
    export PATH
}

resolve_pulumi() {
    local found version bin
    PULUMI_WHY=""
    if [ -n "${HIVE_PULUMI:-}" ]; then
        found="$(command -v "$HIVE_PULUMI" || true)"
        if [ -z "$found" ]; then
            PULUMI_WHY="HIVE_PULUMI names $HIVE_PULUMI, which is not an executable"
            return 1
        fi
        use_pulumi "$found" "HIVE_PULUMI"
        return 0
    fi
    found="$(command -v pulumi || true)"
    if [ -n "$found" ]; then
        version="$("$found" version 2>/dev/null | tail -n1 || true)"
        if version_supported "$version" "$(pinned_pulumi_version)"; then
            use_pulumi "$found" "PATH, $version"
            return 0
        fi
        PULUMI_WHY="the pulumi on PATH ($found) is ${version:-of no known version}, not 3.x at least $(pinned_pulumi_version);"
    fi
    if bin="$(bash "$HIVE_ROOT/scripts/build-pulumi.sh" --print-bin 2>/dev/null | tail -n1)" && [ -x "$bin/pulumi" ]; then
        use_pulumi "$bin/pulumi" "the cached build of $(pinned_pulumi_version)"
        # Its plugins are the ones beside it, on PATH: nothing to download or check.
        export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"
        export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-true}"
        return 0
    fi
    PULUMI_WHY="${PULUMI_WHY:+$PULUMI_WHY }no Pulumi CLI found (HIVE_PULUMI unset, no pulumi on PATH, no cached build of $(pinned_pulumi_version))"
    return 1
}

# The project's name (Pulumi.yaml's `name:`).
project_name() { sed -n 's/^name:[[:space:]]*//p' "$HIVE_ROOT/Pulumi.yaml" | head -n1 | tr -d "\"'"; }

# Where the generated passphrase of stack $1 is kept.
passphrase_file() {
    local stack="${1//\//_}"
    echo "${XDG_CONFIG_HOME:-$HOME/.config}/hive-infra/passphrases/$(project_name).$stack"
}

# The backend URL: PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url.
backend_url() {
    if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
        echo "$PULUMI_BACKEND_URL"
        return
    fi
    awk '/^backend:/ {b=1; next} b && /^[^ ]/ {b=0} b && $1 == "url:" {print $2; exit}' "$HIVE_ROOT/Pulumi.yaml"
}

resolve_passphrase() {
    local stack="$1" mode="$2" file stack_file provider backend
    stack_file="$HIVE_ROOT/Pulumi.${stack##*/}.yaml"
    file="$(passphrase_file "$stack")"
    PASSPHRASE_NOTE=""
    if [ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ]; then
        PASSPHRASE_NOTE="yours: PULUMI_CONFIG_PASSPHRASE is set"
        return 0
    fi
    if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
        PASSPHRASE_NOTE="yours: PULUMI_CONFIG_PASSPHRASE_FILE=$PULUMI_CONFIG_PASSPHRASE_FILE"
        return 0
    fi
    provider="$(sed -n 's/^secretsprovider:[[:space:]]*//p' "$stack_file" 2>/dev/null | head -n1)"
    if [ -n "$provider" ] && [[ "$provider" != passphrase* ]]; then
        PASSPHRASE_NOTE="not needed: the stack's secrets provider is ${provider%%://*}"
        return 0
    fi
    backend="$(backend_url)"
    if [ -z "$provider" ] && [[ "$backend" == http://* || "$backend" == https://* ]]; then
        PASSPHRASE_NOTE="not needed: the backend $backend keeps the secrets"
        return 0
    fi
    if [ -f "$file" ]; then
        export PULUMI_CONFIG_PASSPHRASE_FILE="$file"
        PASSPHRASE_NOTE="the generated one in $file; with pulumi directly: export PULUMI_CONFIG_PASSPHRASE_FILE=$file"
        return 0
    fi
    if grep -q '^encryptionsalt:' "$stack_file" 2>/dev/null; then
        PASSPHRASE_NOTE="stack ${stack##*/} encrypts with a passphrase that is not set; export PULUMI_CONFIG_PASSPHRASE='...' or PULUMI_CONFIG_PASSPHRASE_FILE=/path/to/file (lost it? docs/operations.md: Troubleshooting)"
        return 1
    fi
    if [ "$mode" != create ]; then
        PASSPHRASE_NOTE="none set and none generated yet for stack ${stack##*/} (\`make up STACK=${stack##*/}\` makes one), or export PULUMI_CONFIG_PASSPHRASE_FILE"
        return 1
    fi
    mkdir -p "$(dirname "$file")"
    chmod 0700 "$(dirname "$file")"
    (
        umask 077
        python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$file.tmp"
        mv "$file.tmp" "$file"
    )
    export PULUMI_CONFIG_PASSPHRASE_FILE="$file"
    PASSPHRASE_NOTE="generated $file (0600; back it up: it decrypts the stack's secrets); with pulumi directly: export PULUMI_CONFIG_PASSPHRASE_FILE=$file"
}
