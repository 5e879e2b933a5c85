#!/usr/bin/env bash
# Builds the upstream Kubernetes binaries the Kubernetes tier's one-node
# cluster runs (scripts/cluster.sh), from Go modules only (the Go module proxy;
# no release download), into a cache folder outside the repo:
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#   kube-proxy, kubectl    from k8s.io/kubernetes, through a wrapper module that
#                          requires it and replaces each of its staging modules
#                          (k8s.io/api, ...) with the published v0 module
#   pause.tar              the pod sandbox ("pause") image: an OCI archive of
#                          the module's build/pause/linux/pause.c, compiled
#                          static with gcc; pause.ref holds its image name
#
# Versions come from scripts/kubernetes-pins.env. etcd, containerd, runc and
# the CNI plugins are Debian packages (.ci/run installs them).
#
# Usage:
#   scripts/build-kubernetes.sh              build what is missing; the last line
#                                            of stdout is the absolute bin folder
#   scripts/build-kubernetes.sh --print-bin  print the bin folder only; build
#                                            nothing; exit 1 if it is not complete
#
# Cache: ${HIVE_KUBERNETES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hive-infra/kubernetes}/<key>/,
# <key> = the Kubernetes version plus a hash of the pins file, this script and
# scripts/build-lib.sh. A run with everything present checks files only and
# never calls go. A build goes into a temporary folder beside the cache and is
# renamed into place only when complete. Progress and step times go to stderr,
# the go and gcc output to <cache>/logs/<key>.log. GOMODCACHE and GOCACHE are
# used as set. Cold on 2 cores: see docs/testing.md.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script_path="$script_dir/$(basename "${BASH_SOURCE[0]}")"
pins_file="$script_dir/kubernetes-pins.env"
me=build-kubernetes
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
KUBERNETES_VERSION=$(pin KUBERNETES_VERSION)
KUBERNETES_STAGING_VERSION=$(pin KUBERNETES_STAGING_VERSION)
PAUSE_VERSION=$(pin PAUSE_VERSION)

K8S=k8s.io/kubernetes
# The pause image's name: the .invalid domain never resolves, so a missing
# image can never turn into a pull from anywhere.
PAUSE_REF="hive.invalid/pause:$PAUSE_VERSION"

cache_root=$(cache_dir kubernetes)
key="$KUBERNETES_VERSION-$(recipe_hash "$pins_file" "$script_path" "$script_dir/build-lib.sh")"
dest="$cache_root/$key"
bin_dir="$dest/bin"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# is_complete DIR: every binary, the pause image and the build record (written last).
is_complete() {
    local b
    [ -f "$1/BUILD-INFO" ] && [ -s "$1/pause.tar" ] && [ -s "$1/pause.ref" ] || return 1
    for b in "${binaries[@]}"; do
        [ -x "$1/bin/$b" ] || return 1
    done
}

if is_complete "$dest"; then
    [ "$mode" = print ] || log "up to date: $dest"
    printf '%s\n' "$bin_dir"
    exit 0
fi
if [ "$mode" = print ]; then
    log "not built yet: $dest is missing or incomplete; run scripts/build-kubernetes.sh"
    exit 1
fi

need_go
command -v gcc >/dev/null 2>&1 || die "gcc is not on PATH (apt-get install gcc libc6-dev): it builds the pause image"

mkdir -p "$cache_root/logs"
log_file="$cache_root/logs/$key.log"
: >"$log_file"
work=$(mktemp -d "$cache_root/.build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
out="$work/out"
mkdir -p "$out/bin"
wrap="$work/wrap"
mkdir -p "$wrap"
log "building into $work (go output: $log_file)"
total_start=$SECONDS

# --- modules ----------------------------------------------------------------
fetch() {
    local info gomod staging m
    run "go mod init" go -C "$wrap" mod init hive-infra/build/kubernetes
    retry "downloading $K8S@$KUBERNETES_VERSION" go -C "$wrap" mod download "$K8S@$KUBERNETES_VERSION"
    info=$(go -C "$wrap" mod download -json "$K8S@$KUBERNETES_VERSION")
    gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$info")
    k8s_dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
    [ -f "$gomod" ] && [ -d "$k8s_dir" ] || die "cannot locate $K8S@$KUBERNETES_VERSION in the module cache"
    # The staging modules are the ones its go.mod replaces with ./staging/... folders.
    mapfile -t staging < <(sed -n 's|^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*|\1|p' "$gomod")
    [ "${#staging[@]}" -gt 20 ] || die "found only ${#staging[@]} staging replaces in $gomod; the wrapper needs them all"
    for m in "${staging[@]}"; do
        run "go mod edit (replace $m)" go -C "$wrap" mod edit -replace "$m=$m@$KUBERNETES_STAGING_VERSION"
    done
    log "replaced ${#staging[@]} staging modules with their $KUBERNETES_STAGING_VERSION releases"
    retry "downloading $K8S@$KUBERNETES_VERSION's dependencies" \
        go -C "$wrap" get "$K8S@$KUBERNETES_VERSION"
    retry "downloading the modules the commands import" \
        go -C "$wrap" list -deps "${packages[@]}"
}

# --- binaries ---------------------------------------------------------------
compile() {
    local v=$KUBERNETES_VERSION minor date ldflags b reported
    minor=${v#v*.}
    minor=${minor%%.*}
    # The build date is the tag's commit time (the module's .info), so that the
    # same inputs give the same binaries.
    date=$(go -C "$wrap" list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "$K8S")
    ldflags="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor"
        ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
    done
    run "go build ${binaries[*]}" go -C "$wrap" build -trimpath -ldflags "$ldflags" -o "$out/bin/" "${packages[@]}"
    for b in "${binaries[@]}"; do
        if [ "$b" = kubectl ]; then
            reported=$("$out/bin/kubectl" version --client 2>&1 | sed -n 's/^Client Version: //p')
        else
            reported=$("$out/bin/$b" --version 2>&1 | awk '{print $2}')
        fi
        [ "$reported" = "$v" ] || die "$b reports version '$reported', expected $v"
    done
}

# --- the pause image ----------------------------------------------------------
# blob FILE MEDIATYPE: moves FILE into the OCI layout's blobs and prints its
# descriptor (JSON).
blob() {
    local digest size
    digest=$(sha256sum "$1" | cut -d' ' -f1)
    size=$(stat -c %s "$1")
    mv "$1" "$work/oci/blobs/sha256/$digest"
    printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$digest" "$size"
}

pause_image() {
    local src="$k8s_dir/build/pause/linux/pause.c" root="$work/pause-root" arch
    local layer config manifest diff_id
    [ -f "$src" ] || die "$src is missing from the module zip"
    mkdir -p "$root" "$work/oci/blobs/sha256"
    run "gcc pause.c" gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-hive" -o "$root/pause" "$src"
    "$root/pause" -v | grep -q "v$PAUSE_VERSION" || die "the pause binary does not run or report its version"
    arch=$(go env GOARCH)
    # One uncompressed layer with /pause, owned by root, dated 0 (reproducible).
    tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$work/layer.tar" pause
    diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    layer=$(blob "$work/layer.tar" application/vnd.oci.image.layer.v1.tar)
    printf '{"architecture":"%s","os":"linux","config":{"User":"65535:65535","Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$arch" "$diff_id" >"$work/config.json"
    config=$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
        "$config" "$layer" >"$work/manifest.json"
    manifest=$(blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
    printf '{"schemaVersion":2,"manifests":[%s]}' \
        "${manifest%\}},\"annotations\":{\"io.containerd.image.name\":\"$PAUSE_REF\",\"org.opencontainers.image.ref.name\":\"$PAUSE_VERSION\"}}" \
        >"$work/oci/index.json"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
    tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/oci" -cf "$out/pause.tar" oci-layout index.json blobs
    printf '%s\n' "$PAUSE_REF" >"$out/pause.ref"
}

packages=()
for b in "${binaries[@]}"; do
    packages+=("$K8S/cmd/$b")
done
k8s_dir=""
step fetch fetch
step compile compile
step pause-image pause_image

{
    echo "# Built by scripts/build-kubernetes.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) with $go_version"
    echo "KEY=$key"
    grep -E '^[A-Z0-9_]+=' "$pins_file"
    sed 's/^/# step /' "$work/timings"
    echo "# total: $((SECONDS - total_start))s"
} >"$out/BUILD-INFO"
finish_build "$out" "$dest" is_complete

for b in "${binaries[@]}"; do
    log "$(du -h "$bin_dir/$b" | cut -f1)	$b"
done
log "steps: $(tr '\n' ' ' <"$work/timings")total $((SECONDS - total_start))s"
printf '%s\n' "$bin_dir"
