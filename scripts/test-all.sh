#!/usr/bin/env bash
# `make test`: every tier from nothing. Installs what is missing (as root, or
# through sudo: PostgreSQL 15+ with contrib, python3-venv, Debian's docker.io and
# debootstrap, the Kubernetes tier's packages), makes the venv (scripts/venv.sh),
# builds the engine (`make engine`, Go 1.26+), starts a Docker engine when none
# answers (scripts/dockerd.sh, the script `make up` uses), builds the Docker
# tier's images (`make images`), builds upstream Kubernetes and starts its
# one-node cluster (scripts/cluster.sh), then runs the whole suite (`make pytest`)
# with every tier required: a tier that cannot be provided fails with the reason
# instead of being skipped. What this run started (the cluster, dockerd) it stops
# on exit; what it found running it leaves alone. Safe to run again: every step
# checks before it installs or builds. `.ci/run` is this plus CI's own settings.
#
# Environment: VENV (default venv), PYTHON (default python3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# dockerd and debootstrap live in /usr/sbin, which a user's PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
VENV="${VENV:-venv}"
PYTHON="${PYTHON:-python3}"
# Each tier's HIVE_REQUIRE_*: a missing PostgreSQL, app install, engine, Docker
# engine or cluster fails its tier instead of skipping it.
export HIVE_REQUIRE_POSTGRES=1 HIVE_REQUIRE_APP=1 HIVE_REQUIRE_PULUMI=1 HIVE_REQUIRE_DOCKER=1 HIVE_REQUIRE_KUBERNETES=1
export DEBIAN_FRONTEND="${DEBIAN_FRONTEND:-noninteractive}"

sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        $sudo apt-get update -q </dev/null
        apt_updated=1
    fi
    echo "apt-get install $*"
    $sudo apt-get install -y -q --no-install-recommends "$@" </dev/null
}

# True when a PostgreSQL 15 or later initdb is installed.
have_postgres() {
    local initdb major
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$initdb" ] || continue
        major="${initdb#/usr/lib/postgresql/}"
        major="${major%%/*}"
        major="${major%%.*}"
        if [[ "$major" =~ ^[0-9]+$ ]] && [ "$major" -ge 15 ]; then
            return 0
        fi
    done
    return 1
}

command -v make >/dev/null || apt_install make

if ! have_postgres; then
    apt_install postgresql postgresql-contrib
    if ! have_postgres; then
        echo "error: apt-get installed postgresql but no PostgreSQL 15+ initdb is under /usr/lib/postgresql/*/bin" >&2
        exit 1
    fi
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: python3 is $(python3 -V 2>&1); the program needs Python 3.11 or later" >&2
    exit 1
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install python3-venv
fi

echo "== $(bash scripts/venv.sh "$VENV" "$PYTHON" | tail -n1)"

# The Pulumi CLI, Python host and plugins, from the Go module proxy (the
# machine's Go 1.26; Pulumi's download site is out of reach). Cold, this is
# the longest step of the run; a second run finds them in the cache.
if ! command -v go >/dev/null; then
    echo "error: no go on PATH: the engine tier needs Go 1.26+ to build the Pulumi CLI (scripts/build-pulumi.sh)" >&2
    exit 1
fi
echo "== make engine"
make engine

# A Docker engine for the Docker tier, from the script `make up` uses too
# (scripts/dockerd.sh: Debian's docker.io when no dockerd is installed, started
# when none answers, with its log and pid file under DOCKERD_DIR). This run stops
# it on exit only if this run started it. Nothing is ever pulled: no registry is
# reachable, and the images are built below.
export DOCKERD_DIR="${DOCKERD_DIR:-/tmp/hive-dockerd}"
started_dockerd=""
stop_dockerd() {
    if [ -n "$started_dockerd" ]; then
        $sudo env DOCKERD_DIR="$DOCKERD_DIR" bash scripts/dockerd.sh stop "$started_dockerd"
    fi
}
# The cluster (below) is stopped before dockerd; each only if this run started it.
started_cluster=""
stop_cluster() {
    if [ -n "$started_cluster" ]; then
        echo "== stopping the Kubernetes cluster this run started"
        $sudo bash scripts/cluster.sh down || echo "warning: scripts/cluster.sh down failed" >&2
    fi
}
on_exit() {
    stop_cluster
    stop_dockerd
}
trap on_exit EXIT
command -v debootstrap >/dev/null || apt_install debootstrap
started_dockerd="$($sudo env DOCKERD_DIR="$DOCKERD_DIR" bash scripts/dockerd.sh start)"
echo "== docker engine $(docker info --format '{{.ServerVersion}}')"

# The Docker tier's images, from debootstrap, Debian's packages and host-built
# wheels; a second run finds each one and prints that it was reused.
echo "== make images"
make images

# The Kubernetes tier: upstream Kubernetes built from the Go module proxy (a
# cache like the engine's), etcd, containerd, runc, the CNI plugins and the
# registry from Debian, then a one-node cluster in a network namespace of its
# own (scripts/cluster.sh; stopped on exit only if this run started it). gcc and
# libc6-dev build the pause image.
need_k8s_packages=()
for tool in etcd:etcd-server containerd:containerd ctr:containerd runc:runc docker-registry:docker-registry \
    socat:socat openssl:openssl curl:curl ip:iproute2 iptables:iptables nsenter:util-linux gcc:gcc; do
    command -v "${tool%%:*}" >/dev/null || need_k8s_packages+=("${tool#*:}")
done
[ -x /usr/lib/cni/bridge ] || need_k8s_packages+=(containernetworking-plugins)
[ -f /usr/include/stdio.h ] || need_k8s_packages+=(libc6-dev)
if [ "${#need_k8s_packages[@]}" -gt 0 ]; then
    apt_install "${need_k8s_packages[@]}"
fi
echo "== make kubernetes"
make kubernetes
if $sudo bash scripts/cluster.sh status >/dev/null 2>&1; then
    echo "== a Kubernetes cluster is up already (scripts/cluster.sh status): using it, leaving it up"
else
    echo "== starting the Kubernetes cluster (scripts/cluster.sh up)"
    started_cluster=1
    $sudo bash scripts/cluster.sh up
fi

# The stack's ports and the legacy install's (38886, 48886, 35532, 48532) lie in Linux's
# ephemeral range (32768-60999): a client socket that happens to take one makes Docker's
# publish of it fail with "address already in use" (seen once in the legacy tier). Reserve
# them from ephemeral use, keeping what is reserved already; a kernel that refuses is noted.
HIVE_PORTS="5532,8886,35532,38886,48532,48886"
reserved_file=/proc/sys/net/ipv4/ip_local_reserved_ports
reserved="$(cat "$reserved_file" 2>/dev/null || true)"
if echo "${reserved:+$reserved,}$HIVE_PORTS" | $sudo tee "$reserved_file" >/dev/null 2>&1; then
    echo "== ephemeral ports exclude $HIVE_PORTS ($reserved_file: $(cat "$reserved_file"))"
else
    echo "note: could not reserve $HIVE_PORTS from ephemeral use; a rare port clash may fail the Docker tier"
fi

# make pytest fails on any pytest failure, and also when pytest collects no test
# at all (its exit 5), with a message saying so.
echo "== make pytest (every tier required)"
make pytest VENV="$VENV"
