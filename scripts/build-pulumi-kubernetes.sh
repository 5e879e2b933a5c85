#!/usr/bin/env bash
# Builds the pulumi-kubernetes provider plugin (pulumi-resource-kubernetes), a
# native provider, from its Go module (the Go module proxy; no Pulumi download
# site), into a cache folder of its own, apart from scripts/build-pulumi.sh's
# so that adding it did not change (and rebuild) the engine. `make engine`
# runs both.
#
# The module is copied out of the module cache and built as the main module
# with its own go.mod and go.sum, less one line: its `replace .../sdk/v4 =>
# ../sdk` points at a folder of the repository the zip does not carry (the
# published sdk/v4 module it requires stands in). `generate.go` writes the
# embedded schema and Terraform mapping from files in the zip (no network),
# then the plugin is stamped with the PyPI version it matches.
#
# Usage:
#   scripts/build-pulumi-kubernetes.sh              build what is missing; the
#                                                   last line of stdout is the bin folder
#   scripts/build-pulumi-kubernetes.sh --print-bin  print the bin folder only;
#                                                   build nothing; exit 1 if not built
#
# Cache: ${HIVE_PULUMI_KUBERNETES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hive-infra/pulumi-kubernetes}/<key>/bin,
# <key> = the plugin version plus a hash of scripts/pulumi-kubernetes-pins.env,
# this script and scripts/build-lib.sh. A warm run never calls go. Logs:
# <cache>/logs/<key>.log. Pulumi finds the plugin on PATH (it never downloads
# one: the tests set PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script_path="$script_dir/$(basename "${BASH_SOURCE[0]}")"
pins_file="$script_dir/pulumi-kubernetes-pins.env"
me=build-pulumi-kubernetes
# shellcheck source=scripts/build-lib.sh
. "$script_dir/build-lib.sh"

mode=build
[ $# -le 1 ] || die "at most one argument (--print-bin); got: $*"
case "${1:-}" in
"") ;;
--print-bin) mode=print ;;
-h | --help)
    sed -n '2,/^set -euo/p' "$script_path" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
*) die "unknown argument '$1' (try --help)" ;;
esac

[ -f "$pins_file" ] || die "pins file $pins_file is missing"
MODULE=$(pin KUBERNETES_PROVIDER_MODULE)
MODULE_VERSION=$(pin KUBERNETES_PROVIDER_MODULE_VERSION)
VERSION=$(pin PULUMI_KUBERNETES_VERSION)

cache_root=$(cache_dir pulumi-kubernetes)
key="v$VERSION-$(recipe_hash "$pins_file" "$script_path" "$script_dir/build-lib.sh")"
dest="$cache_root/$key"
bin_dir="$dest/bin"
plugin=pulumi-resource-kubernetes

is_complete() { [ -f "$1/BUILD-INFO" ] && [ -x "$1/bin/$plugin" ]; }

if is_complete "$dest"; then
    [ "$mode" = print ] || log "up to date: $dest"
    printf '%s\n' "$bin_dir"
    exit 0
fi
if [ "$mode" = print ]; then
    log "not built yet: $dest is missing or incomplete; run scripts/build-pulumi-kubernetes.sh"
    exit 1
fi

need_go
mkdir -p "$cache_root/logs"
log_file="$cache_root/logs/$key.log"
: >"$log_file"
work=$(mktemp -d "$cache_root/.build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
out="$work/out"
mkdir -p "$out/bin"
src="$work/provider"
log "building into $work (go output: $log_file)"
total_start=$SECONDS

fetch() {
    local dir
    retry "downloading $MODULE@$MODULE_VERSION" go mod download "$MODULE@$MODULE_VERSION"
    dir=$(go mod download -json "$MODULE@$MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -f "$dir/go.mod" ] || die "cannot locate $MODULE@$MODULE_VERSION in the module cache"
    cp -R "$dir" "$src"
    chmod -R u+w "$src"
    grep -q '^replace github.com/pulumi/pulumi-kubernetes/sdk/v4 => \.\./sdk' "$src/go.mod" ||
        die "$MODULE@$MODULE_VERSION's go.mod no longer has the sdk/v4 replace this build drops; review it"
    run "go mod edit -dropreplace sdk/v4" go -C "$src" mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
    # -e: the package does not load fully before generate.go wrote its embedded files.
    retry "downloading the modules the plugin imports" go -C "$src" list -e -deps "./cmd/$plugin"
}

generate() {
    (cd "$src/cmd/$plugin" && VERSION=$VERSION go run generate.go) >>"$log_file" 2>&1 ||
        die "generate.go failed (full log: $log_file)"
    [ -s "$src/cmd/$plugin/schema-embed.json" ] || die "generate.go wrote no schema-embed.json"
}

compile() {
    local reported
    run "go build ./cmd/$plugin" go -C "$src" build -trimpath \
        -ldflags "-s -w -X $MODULE/pkg/version.Version=$VERSION" -o "$out/bin/$plugin" "./cmd/$plugin"
    # The provider reports its version through the plugin protocol only; the
    # schema it embeds carries it too.
    reported=$(grep -o '"version":"[^"]*"' "$src/cmd/$plugin/schema-embed.json" | head -1)
    [ "$reported" = "\"version\":\"$VERSION\"" ] || die "the embedded schema says $reported, expected $VERSION"
}

step fetch fetch
step generate generate
step compile compile
{
    echo "# Built by scripts/build-pulumi-kubernetes.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) with $go_version"
    echo "KEY=$key"
    grep -E '^[A-Z0-9_]+=' "$pins_file"
    sed 's/^/# step /' "$work/timings"
    echo "# total: $((SECONDS - total_start))s"
} >"$out/BUILD-INFO"
finish_build "$out" "$dest" is_complete
log "$(du -h "$bin_dir/$plugin" | cut -f1)	$plugin"
log "steps: $(tr '\n' ' ' <"$work/timings")total $((SECONDS - total_start))s"
printf '%s\n' "$bin_dir"
