#!/usr/bin/env bash
# Builds the Pulumi engine this project runs, from Go modules only (the Go
# module proxy; no Pulumi download site), into a cache folder outside the repo:
#
#   pulumi                           the CLI (github.com/pulumi/pulumi/pkg/v3)
#   pulumi-language-python           the Python language host
#   pulumi-language-python-exec      its Python entry point (a file of sdk/v3)
#   pulumi-resource-pulumi-python    the Python dynamic-provider plugin (sdk/v3)
#   pulumi-resource-postgresql       bridged Terraform providers, each our own
#   pulumi-resource-random           small wrapper around the bridge and the
#   pulumi-resource-docker           upstream provider (see write_* below)
#
# Not the released pulumi-<name> provider binaries: the Go proxy serves none of
# their provider modules. Each wrapper restates the mapping (tokens, config
# defaults, ...) and generates schema.json with the bridge's tfgen; for
# postgresql and random the result equals the released schema, for docker the
# native Image resource is missing and the upstream is a later commit.
#
# Versions come from scripts/pulumi-pins.env; constraints.txt pins the PyPI
# packages to the same versions.
#
# Usage:
#   scripts/build-pulumi.sh              build what is missing; the last line of
#                                        stdout is the absolute bin folder:
#                                        PATH="$(scripts/build-pulumi.sh | tail -1):$PATH"
#   scripts/build-pulumi.sh --print-bin  print the bin folder only; build nothing;
#                                        exit 1 if it is not complete
#
# Cache: ${HIVE_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hive-infra/pulumi}/<key>/bin,
# <key> = the CLI version plus a hash of the pins file and this script, comment
# lines left out (as scripts/build-lib.sh's recipe_hash), so a comment never
# invalidates a build. A run
# with everything present checks files only and never calls go. A build goes
# into a temporary folder beside the cache and is renamed into place only when
# complete, so a killed build never leaves a folder that looks complete.
# Progress and per-step times go to stderr; the go output to log files
# (<cache>/logs). Module downloads retry 3 times. How long a cold build takes
# and what it leaves: docs/testing.md: The real engine tier.
# The generated schemas are kept beside bin/, in <key>/schemas/<name>/.
#
# Go: GOMODCACHE and GOCACHE are used as set (set both to empty temp folders to
# measure a cold build). Needs Go >= 1.26 (GOTOOLCHAIN=local: never downloads
# another Go) and cgo is off. Checksums come from the checksum database as
# usual (through the proxy when sum.golang.org itself is unreachable), except
# for the Python language host, whose pseudo-version the database does not
# know: GONOSUMDB names that one module and the script checks its zip hash
# against the pin instead.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script_path="$script_dir/$(basename "${BASH_SOURCE[0]}")"
pins_file="$script_dir/pulumi-pins.env"

log() { printf 'build-pulumi: %s\n' "$*" >&2; }
die() {
    printf 'build-pulumi: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "$script_path" | sed '$d; s/^# \{0,1\}//'
}

mode=build
if [ $# -gt 1 ]; then
    die "at most one argument (--print-bin); got: $*"
fi
case "${1:-}" in
"") ;;
--print-bin) mode=print ;;
-h | --help)
    usage
    exit 0
    ;;
*) die "unknown argument '$1' (try --help)" ;;
esac

# --- pins -----------------------------------------------------------------
[ -f "$pins_file" ] || die "pins file $pins_file is missing"

# pin KEY: the value of KEY=VALUE in the pins file; dies if absent or odd.
pin() {
    local value
    value=$(sed -n "s/^$1=//p" "$pins_file")
    if [ -z "$value" ]; then
        die "$pins_file has no value for $1"
    fi
    case "$value" in
    *[[:space:]\"\'\$]* | *$'\n'*) die "$pins_file: $1 must be one plain word, got '$value'" ;;
    esac
    printf '%s' "$value"
}

PULUMI_VERSION=$(pin PULUMI_VERSION)
PYTHON_HOST_MODULE=$(pin PYTHON_HOST_MODULE)
PYTHON_HOST_MODULE_VERSION=$(pin PYTHON_HOST_MODULE_VERSION)
PYTHON_HOST_MODULE_SUM=$(pin PYTHON_HOST_MODULE_SUM)
PYTHON_HOST_PULUMI_VERSION=$(pin PYTHON_HOST_PULUMI_VERSION)
BRIDGE_VERSION=$(pin BRIDGE_VERSION)
TF_PLUGIN_SDK_FORK=$(pin TF_PLUGIN_SDK_FORK)
TF_PLUGIN_SDK_FORK_VERSION=$(pin TF_PLUGIN_SDK_FORK_VERSION)
PULUMI_POSTGRESQL_VERSION=$(pin PULUMI_POSTGRESQL_VERSION)
POSTGRESQL_UPSTREAM_MODULE=$(pin POSTGRESQL_UPSTREAM_MODULE)
POSTGRESQL_UPSTREAM_VERSION=$(pin POSTGRESQL_UPSTREAM_VERSION)
PULUMI_RANDOM_VERSION=$(pin PULUMI_RANDOM_VERSION)
RANDOM_UPSTREAM_MODULE=$(pin RANDOM_UPSTREAM_MODULE)
RANDOM_UPSTREAM_VERSION=$(pin RANDOM_UPSTREAM_VERSION)
PULUMI_DOCKER_VERSION=$(pin PULUMI_DOCKER_VERSION)
DOCKER_UPSTREAM_MODULE=$(pin DOCKER_UPSTREAM_MODULE)
DOCKER_UPSTREAM_VERSION=$(pin DOCKER_UPSTREAM_VERSION)

PKG=github.com/pulumi/pulumi/pkg/v3
SDK=github.com/pulumi/pulumi/sdk/v3
BRIDGE=github.com/pulumi/pulumi-terraform-bridge/v3
TF_PLUGIN_SDK=github.com/hashicorp/terraform-plugin-sdk/v2
VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

# --- cache layout -----------------------------------------------------------
cache_root=${HIVE_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hive-infra/pulumi}
case "$cache_root" in
/*) ;;
*) cache_root="$PWD/$cache_root" ;;
esac
recipe_hash=$(cat "$pins_file" "$script_path" | grep -v '^[[:space:]]*#' | sha256sum | cut -c1-12)
key="v$PULUMI_VERSION-$recipe_hash"
dest="$cache_root/$key"
bin_dir="$dest/bin"

binaries=(
    pulumi
    pulumi-language-python
    pulumi-language-python-exec
    pulumi-resource-pulumi-python
    pulumi-resource-postgresql
    pulumi-resource-random
    pulumi-resource-docker
)

# is_complete DIR: true when DIR holds every binary, executable, and the build
# record written last.
is_complete() {
    local b
    [ -f "$1/BUILD-INFO" ] || return 1
    for b in "${binaries[@]}"; do
        [ -x "$1/bin/$b" ] || return 1
    done
}

if [ "$mode" = print ]; then
    if is_complete "$dest"; then
        printf '%s\n' "$bin_dir"
        exit 0
    fi
    log "not built yet: $bin_dir is missing or incomplete; run scripts/build-pulumi.sh"
    exit 1
fi

if is_complete "$dest"; then
    log "up to date: $dest"
    printf '%s\n' "$bin_dir"
    exit 0
fi

# --- Go ---------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go 1.26 or later"
go_version=$(go env GOVERSION) || die "'go env GOVERSION' failed"
if [[ ! "$go_version" =~ ^go([0-9]+)\.([0-9]+) ]]; then
    die "cannot read the Go version from '$go_version'"
fi
if [ "${BASH_REMATCH[1]}" -lt 1 ] || { [ "${BASH_REMATCH[1]}" -eq 1 ] && [ "${BASH_REMATCH[2]}" -lt 26 ]; }; then
    die "$go_version is too old: the pinned modules need Go 1.26 or later"
fi
command -v sha256sum >/dev/null 2>&1 || die "sha256sum (coreutils) is not on PATH"

export GOTOOLCHAIN=local
export CGO_ENABLED=0
export GOFLAGS=-buildvcs=false
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}$PYTHON_HOST_MODULE"
ldflags_strip="-s -w"

# Module downloads are latency-bound and go fetches GOMAXPROCS modules at a
# time, so more at once than cores (measured: docs/testing.md: The real engine tier).
fetch_procs=${HIVE_PULUMI_FETCH_PROCS:-16}

log_dir="$cache_root/logs"
mkdir -p "$log_dir"
rm -f "$log_dir/$key"-*.log
work=$(mktemp -d "$cache_root/.build-$key.XXXXXX")
cleanup() {
    local pids pid
    mapfile -t pids < <(jobs -pr)
    for pid in "${pids[@]}"; do
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
out="$work/out"
mkdir -p "$out/bin" "$out/schemas"
log_file="$log_dir/$key-setup.log"
: >"$log_file"
log "building into $work (go output: $log_dir/$key-*.log)"

# run WHAT CMD...: runs CMD with its output in the log; on failure shows the
# log's tail and dies naming WHAT.
run() {
    local what=$1 start
    shift
    start=$(wc -c <"$log_file")
    printf '\n[%s] $ %s\n' "$(date +%T)" "$*" >>"$log_file"
    # In the background and waited for, so that a signal stops the build at once.
    "$@" >>"$log_file" 2>&1 &
    if ! wait "$!"; then
        tail -c "+$((start + 1))" "$log_file" | tail -n 40 >&2
        die "$what failed (full log: $log_file)"
    fi
}

# retry WHAT CMD...: like run, for network steps: 3 attempts, 5 s then 15 s
# apart, with GOMAXPROCS=$fetch_procs.
retry() {
    local what=$1 attempt=1 delay=5 start
    shift
    while :; do
        start=$(wc -c <"$log_file")
        printf '\n[%s] $ %s\n' "$(date +%T)" "$*" >>"$log_file"
        GOMAXPROCS="$fetch_procs" "$@" >>"$log_file" 2>&1 &
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

# step NAME CMD...: runs CMD and records how long it took (in $work/timings,
# shared by the parallel compile jobs).
step() {
    local name=$1 start=$SECONDS took
    shift
    log "[$name] ..."
    "$@"
    took=$((SECONDS - start))
    echo "$name ${took}s" >>"$work/timings"
    log "[$name] done in ${took}s"
}

# --- the CLI and the Python SDK scripts ---------------------------------------
fetch_cli() {
    local d="$work/pulumi"
    mkdir -p "$d"
    run "pulumi: go mod init" go -C "$d" mod init hive-infra/build/pulumi
    retry "pulumi: downloading $PKG@v$PULUMI_VERSION and $SDK@v$PULUMI_VERSION" \
        go -C "$d" get "$PKG/cmd/pulumi@v$PULUMI_VERSION" "$SDK@v$PULUMI_VERSION"
}

compile_cli() {
    local d="$work/pulumi" sdk_dir reported
    run "pulumi: go build $PKG/cmd/pulumi" go -C "$d" build -trimpath -tags osusergo,grpcnotrace \
        -ldflags "$ldflags_strip -X $VERSION_VAR=v$PULUMI_VERSION" -o "$out/bin/pulumi" "$PKG/cmd/pulumi"

    # The Python SDK's own scripts, from the sdk module at the SDK's version.
    sdk_dir=$(go -C "$d" list -m -f '{{.Dir}}' "$SDK") || die "pulumi: cannot locate $SDK in the module cache"
    [ -f "$sdk_dir/python/cmd/pulumi-language-python-exec" ] ||
        die "pulumi-language-python-exec: not found in $SDK@v$PULUMI_VERSION ($sdk_dir/python/cmd)"
    [ -f "$sdk_dir/python/dist/pulumi-resource-pulumi-python" ] ||
        die "pulumi-resource-pulumi-python: not found in $SDK@v$PULUMI_VERSION ($sdk_dir/python/dist)"
    install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$out/bin/"
    install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$out/bin/"
    reported=$("$out/bin/pulumi" version 2>/dev/null) || die "pulumi: 'pulumi version' failed"
    [ "$reported" = "v$PULUMI_VERSION" ] || die "pulumi: reports '$reported', expected v$PULUMI_VERSION"
}

# --- the Python language host -------------------------------------------------
fetch_python_host() {
    local d="$work/pulumi-language-python" hv="v$PYTHON_HOST_PULUMI_VERSION"
    local mod="$PYTHON_HOST_MODULE@$PYTHON_HOST_MODULE_VERSION"
    mkdir -p "$d"
    run "pulumi-language-python: go mod init" go -C "$d" mod init hive-infra/build/pulumi-language-python
    # Its go.mod replaces pkg/v3 and sdk/v3 with folders of the pulumi repo;
    # restated here as the released modules at the version it was built with.
    retry "pulumi-language-python: downloading $mod with $PKG@$hv and $SDK@$hv" \
        go -C "$d" get "$mod" "$PKG@$hv" "$SDK@$hv"
    if ! grep -qF "$PYTHON_HOST_MODULE $PYTHON_HOST_MODULE_VERSION $PYTHON_HOST_MODULE_SUM" "$d/go.sum"; then
        die "pulumi-language-python: $mod does not have the pinned hash $PYTHON_HOST_MODULE_SUM (go.sum: $(grep -F "$PYTHON_HOST_MODULE $PYTHON_HOST_MODULE_VERSION " "$d/go.sum" | head -1))"
    fi
}

compile_python_host() {
    local d="$work/pulumi-language-python" hv="v$PYTHON_HOST_PULUMI_VERSION"
    run "pulumi-language-python: go build $PYTHON_HOST_MODULE" go -C "$d" build -trimpath -tags osusergo,grpcnotrace \
        -ldflags "$ldflags_strip -X $VERSION_VAR=$hv" -o "$out/bin/pulumi-language-python" "$PYTHON_HOST_MODULE"
}

# --- bridged providers ----------------------------------------------------------
# Each provider is one wrapper module in $work/<plugin>: package prov holds the
# ProviderInfo (resource tokens, config defaults, ... written to match the
# released provider's schema and the PyPI SDK), ./tfgen runs the bridge's schema
# generator, and the root package is the plugin, embedding what tfgen wrote.

# provider_init PLUGIN MODULE_PATH: makes the wrapper module with the fork replace.
provider_init() {
    local d="$work/$1"
    mkdir -p "$d/prov" "$d/tfgen"
    run "$1: go mod init" go -C "$d" mod init "$2"
    run "$1: go mod edit" go -C "$d" mod edit -go=1.26 \
        -replace "$TF_PLUGIN_SDK=$TF_PLUGIN_SDK_FORK@$TF_PLUGIN_SDK_FORK_VERSION"
    # Placeholders so that packages load before tfgen has run.
    echo '{}' >"$d/schema.json"
    echo '{}' >"$d/bridge-metadata.json"
}

# go_list_deps DIR: loads every package of the module in DIR with its
# dependencies, fetching modules and filling go.sum (-mod=mod) without compiling.
go_list_deps() { go -C "$1" list -mod=mod -deps ./... >/dev/null; }

# run_tfgen DIR TFGEN: writes schema.json (and bridge-metadata.json) to DIR/gen.
run_tfgen() { (cd "$1" && "$2" schema --out gen --skip-docs --skip-examples); }

# provider_fetch PLUGIN MODULE@VERSION...: pins the bridge, pulumi and the given
# modules, then fetches every module the packages need (fills go.sum).
provider_fetch() {
    local plugin=$1 d="$work/$1"
    shift
    retry "$plugin: downloading $BRIDGE@$BRIDGE_VERSION, $PKG@v$PULUMI_VERSION $*" \
        go -C "$d" get "$BRIDGE@$BRIDGE_VERSION" "$PKG@v$PULUMI_VERSION" "$SDK@v$PULUMI_VERSION" "$@"
    retry "$plugin: downloading the modules its packages import" \
        go_list_deps "$d"
}

# provider_build PLUGIN VERSION [GO BUILD FLAGS...]: runs tfgen, embeds its
# output and builds the plugin; checks that it reports VERSION.
provider_build() {
    local plugin=$1 version=$2 d="$work/$1" name reported
    shift 2
    name=${plugin#pulumi-resource-}
    run "$plugin: go build ./tfgen" go -C "$d" build -trimpath "$@" -ldflags "$ldflags_strip" \
        -o "$work/$plugin-tfgen" ./tfgen
    mkdir -p "$d/gen"
    run "$plugin: tfgen schema" run_tfgen "$d" "$work/$plugin-tfgen"
    [ -s "$d/gen/schema.json" ] || die "$plugin: tfgen wrote no schema.json"
    cp "$d/gen/schema.json" "$d/schema.json"
    mkdir -p "$out/schemas/$name"
    cp "$d/gen/schema.json" "$out/schemas/$name/"
    if [ -f "$d/gen/bridge-metadata.json" ]; then
        cp "$d/gen/bridge-metadata.json" "$d/bridge-metadata.json"
        cp "$d/gen/bridge-metadata.json" "$out/schemas/$name/"
    fi
    run "$plugin: go build" go -C "$d" build -trimpath "$@" -ldflags "$ldflags_strip" \
        -o "$out/bin/$plugin" .
    reported=$("$out/bin/$plugin" -version 2>/dev/null) || die "$plugin: '$plugin -version' failed"
    [ "$reported" = "$version" ] || die "$plugin: reports version '$reported', expected '$version'"
}

write_postgresql() {
    local plugin=pulumi-resource-postgresql
    local d="$work/$plugin" up=github.com/terraform-providers/terraform-provider-postgresql
    provider_init "$plugin" hive-infra/build/pulumi-resource-postgresql
    # pulumi-postgresql replaces this path with a git submodule of the
    # cyrilgdn provider; its module zip stands in for it.
    run "$plugin: go mod edit" go -C "$d" mod edit \
        -replace "$up=$POSTGRESQL_UPSTREAM_MODULE@$POSTGRESQL_UPSTREAM_VERSION"
    cat >"$d/prov/prov.go" <<EOF
// Package prov maps the postgresql Terraform provider to Pulumi (generated by
// hive-infra scripts/build-pulumi.sh).
package prov

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"$up/postgresql"
)

// Version is the pulumi-postgresql release this plugin stands in for.
const Version = "$PULUMI_POSTGRESQL_VERSION"

func Info() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:         shimv2.NewProvider(postgresql.Provider()),
		Name:      "postgresql",
		Version:   Version,
		GitHubOrg: "cyrilgdn",
		// The defaults the PyPI SDK applies too.
		Config: map[string]*tfbridge.SchemaInfo{
			"sslmode":         {Default: &tfbridge.DefaultInfo{EnvVars: []string{"PGSSLMODE"}}},
			"connect_timeout": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"PGCONNECT_TIMEOUT"}, Value: 180}},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"postgresql_grant": {Tok: "postgresql:index/grant:Grant", DeleteBeforeReplace: true},
			"postgresql_grant_role": {Fields: map[string]*tfbridge.SchemaInfo{
				"grant_role": {CSharpName: "GrantRoleName"},
			}},
		},
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
	}
	// The SDK has both DefaultPrivileges and the older DefaultPrivileg.
	info.RenameResourceWithAlias("postgresql_default_privileges",
		"postgresql:index/defaultPrivileg:DefaultPrivileg",
		"postgresql:index/defaultPrivileges:DefaultPrivileges", "index", "index", nil)
	info.MustComputeTokens(tokens.SingleModule("postgresql_", "index", tokens.MakeStandard("postgresql")))
	info.SetAutonaming(255, "-")
	return info
}
EOF
    cat >"$d/tfgen/main.go" <<'EOF'
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"hive-infra/build/pulumi-resource-postgresql/prov"
)

func main() { tfgen.Main("postgresql", prov.Version, prov.Info()) }
EOF
    cat >"$d/main.go" <<'EOF'
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"hive-infra/build/pulumi-resource-postgresql/prov"
)

//go:embed schema.json
var schema []byte

func main() { tfbridge.Main("postgresql", prov.Version, prov.Info(), schema) }
EOF
}

fetch_postgresql() {
    provider_fetch pulumi-resource-postgresql \
        "github.com/terraform-providers/terraform-provider-postgresql@$POSTGRESQL_UPSTREAM_VERSION"
}

compile_postgresql() {
    provider_build pulumi-resource-postgresql "$PULUMI_POSTGRESQL_VERSION"
}

write_random() {
    local plugin=pulumi-resource-random
    local d="$work/$plugin" up=$RANDOM_UPSTREAM_MODULE
    # The provider lives in internal/provider; Go lets a package import it only
    # from below the upstream's module path, so the wrapper module sits there
    # (pulumi-random does the same with its nested shim module).
    provider_init "$plugin" "$up/hivewrap"
    cat >"$d/prov/prov.go" <<EOF
// Package prov maps the random Terraform provider (plugin framework) to Pulumi
// (generated by hive-infra scripts/build-pulumi.sh).
package prov

import (
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"$up/internal/provider"
)

// Version is the pulumi-random release this plugin stands in for.
const Version = "$PULUMI_RANDOM_VERSION"

func Info(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(provider.New()),
		Name:         "random",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources: map[string]*tfbridge.ResourceInfo{
			// State written before random_string had schema version 1 reads as 1.
			"random_string": {PreStateUpgradeHook: func(a tfbridge.PreStateUpgradeHookArgs) (int64, resource.PropertyMap, error) {
				if a.PriorStateSchemaVersion == 0 {
					return 1, a.PriorState, nil
				}
				return a.PriorStateSchemaVersion, a.PriorState, nil
			}},
			// random_bytes has no id attribute: its base64 value is the id.
			"random_bytes": {ComputeID: tfbridge.DelegateIDField("base64", "random", "https://github.com/pulumi/pulumi-random")},
		},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	// random_password -> random:index/randomPassword:RandomPassword, and so on.
	info.MustComputeTokens(tokens.SingleModule("random_", "index", func(module, name string) (string, error) {
		return tokens.MakeStandard("random")(module, "Random"+name)
	}))
	info.MustApplyAutoAliases()
	return info
}
EOF
    cat >"$d/tfgen/main.go" <<EOF
package main

import (
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"$up/hivewrap/prov"
)

func main() { pftfgen.Main("random", prov.Info(nil)) }
EOF
    cat >"$d/main.go" <<EOF
package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"$up/hivewrap/prov"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pfbridge.Main(context.Background(), "random", prov.Info(metadata),
		pfbridge.ProviderMetadata{PackageSchema: schema, BridgeMetadata: metadata})
}
EOF
}

fetch_random() {
    provider_fetch pulumi-resource-random "$RANDOM_UPSTREAM_MODULE@$RANDOM_UPSTREAM_VERSION"
}

compile_random() {
    provider_build pulumi-resource-random "$PULUMI_RANDOM_VERSION"
}

# The registry HTTP client of the docker provider, rewritten: upstream assigns a
# transport to http.DefaultClient (changing it for the whole process) and always
# sets an explicit TLS config, which Docker Hub's CDN rejects with 403 for Go
# >= 1.25 clients. pulumi-docker patches this function (its patch 0002); this
# is our own version of the same fix.
docker_registry_client_func='func buildHttpClientForRegistry(registryAddressWithProtocol string, insecureSkipVerify bool) *http.Client {
	// hive-infra build-pulumi.sh: a new client on a copy of the default
	// transport; a TLS config only when verification is to be skipped.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if insecureSkipVerify && strings.HasPrefix(registryAddressWithProtocol, "https://") {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec
	}
	return &http.Client{Transport: transport}
}'

write_docker() {
    local plugin=pulumi-resource-docker
    local d="$work/$plugin" up=github.com/terraform-providers/terraform-provider-docker
    provider_init "$plugin" "$up/hivewrap"
    cat >"$d/prov/prov.go" <<EOF
// Package prov maps the docker Terraform provider to Pulumi (generated by
// hive-infra scripts/build-pulumi.sh). The native docker:index/image:Image of
// pulumi-docker (not a Terraform resource) is not part of this build.
package prov

import (
	"context"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"$up/internal/provider"
)

// Version is the pulumi-docker release this plugin stands in for.
const Version = "$PULUMI_DOCKER_VERSION"

func Info(metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(provider.New("dev")()),
		Name:         "docker",
		Version:      Version,
		GitHubOrg:    "kreuzwerker",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				EnvVars: []string{"DOCKER_HOST"},
				ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
					return "unix:///var/run/docker.sock", nil
				},
			}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
			"docker_image": {Tok: "docker:index/remoteImage:RemoteImage", Fields: map[string]*tfbridge.SchemaInfo{
				"name": {Name: "name"},
			}},
			"docker_container": {
				Tok:                 "docker:index/container:Container",
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: "docker:index/getRemoteImage:getRemoteImage"},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	info.MustApplyAutoAliases()
	info.SetAutonaming(255, "-")
	return info
}
EOF
    cat >"$d/tfgen/main.go" <<EOF
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"$up/hivewrap/prov"
)

func main() { tfgen.Main("docker", prov.Version, prov.Info(nil)) }
EOF
    cat >"$d/main.go" <<EOF
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"$up/hivewrap/prov"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() { tfbridge.Main("docker", prov.Version, prov.Info(metadata), schema) }
EOF
}

fetch_docker() {
    local plugin=pulumi-resource-docker
    local d="$work/$plugin" up=github.com/terraform-providers/terraform-provider-docker
    local mod="$DOCKER_UPSTREAM_MODULE@$DOCKER_UPSTREAM_VERSION" src f
    # A copy of the upstream module (from the module cache, checksum-verified)
    # with the registry client fixed; it stands in for pulumi-docker's
    # git submodule plus patches.
    retry "$plugin: downloading $mod" go -C "$d" mod download "$mod"
    src=$(go -C "$d" mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$src" ] || die "$plugin: cannot locate $mod in the module cache"
    cp -R "$src" "$d/upstream"
    chmod -R u+w "$d/upstream"
    f="$d/upstream/internal/provider/resource_docker_registry_image_funcs.go"
    [ -f "$f" ] || die "$plugin: $mod has no internal/provider/resource_docker_registry_image_funcs.go to patch"
    if ! awk -v repl="$docker_registry_client_func" '
        skip && /^}/ { skip = 0; next }
        skip { next }
        /^func buildHttpClientForRegistry\(/ { print repl; skip = 1; found = 1; next }
        { print }
        END { if (!found) exit 3 }
    ' "$f" >"$f.new"; then
        die "$plugin: buildHttpClientForRegistry not found in $mod; review the registry client patch"
    fi
    mv "$f.new" "$f"
    run "$plugin: go mod edit" go -C "$d" mod edit -replace "$up=./upstream" \
        -require "$up@$DOCKER_UPSTREAM_VERSION"
    provider_fetch "$plugin"
}

compile_docker() {
    # no_compose (an upstream build tag) leaves out docker_compose, a
    # plugin-framework resource that pulumi-docker never exposes, and its
    # large dependency tree.
    provider_build pulumi-resource-docker "$PULUMI_DOCKER_VERSION" -tags no_compose
}

# --- build, check, publish ------------------------------------------------------
total_start=$SECONDS
write_postgresql
write_random
write_docker

# Two jobs side by side, each downloading then compiling. The CLI's compile
# keeps about one core busy (docs/testing.md: The real engine tier), so the plugins take
# the other; downloads (latency-bound) overlap the other job's compile. The
# plugins share the pulumi and bridge versions, hence GOCACHE, with each
# other; the host (pulumi 3.163) shares little with anything.
cli_job() {
    log_file="$log_dir/$key-pulumi.log"
    : >"$log_file"
    step fetch-pulumi fetch_cli
    step compile-pulumi compile_cli
}
plugins_job() {
    log_file="$log_dir/$key-plugins.log"
    : >"$log_file"
    step fetch-pulumi-resource-postgresql fetch_postgresql
    step fetch-pulumi-resource-random fetch_random
    step fetch-pulumi-resource-docker fetch_docker
    step fetch-pulumi-language-python fetch_python_host
    step compile-pulumi-resource-postgresql compile_postgresql
    step compile-pulumi-resource-random compile_random
    step compile-pulumi-resource-docker compile_docker
    step compile-pulumi-language-python compile_python_host
}
cli_job &
plugins_job &
for _ in 1 2; do
    wait -n || die "a build job failed (see the messages above and $log_dir/$key-*.log)"
done

{
    echo "# Built by scripts/build-pulumi.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) with $go_version"
    echo "KEY=$key"
    grep -E '^[A-Z0-9_]+=' "$pins_file"
    sed 's/^/# step /' "$work/timings"
    echo "# total: $((SECONDS - total_start))s"
} >"$out/BUILD-INFO"
is_complete "$out" || die "internal error: the build finished without every binary"

mkdir -p "$cache_root"
if [ -e "$dest" ] && ! is_complete "$dest"; then
    rm -rf "$dest"
fi
if ! mv -T "$out" "$dest" 2>/dev/null; then
    # Another build finished first; its result is as good as ours.
    is_complete "$dest" || die "cannot move the build into $dest"
fi

for b in "${binaries[@]}"; do
    log "$(du -h "$bin_dir/$b" | cut -f1)	$b"
done
log "steps: $(tr '\n' ' ' <"$work/timings")total $((SECONDS - total_start))s"
printf '%s\n' "$bin_dir"
