#!/usr/bin/env bash
# A one-node upstream Kubernetes cluster on this machine, for the Kubernetes
# test tier (tests/kubernetes). Needs root, the binaries of
# scripts/build-kubernetes.sh and the Debian packages etcd-server, containerd,
# runc, containernetworking-plugins, docker-registry, socat, openssl, curl,
# iproute2 and iptables (.ci/run installs them).
#
# Usage:
#   scripts/cluster.sh up      start it (nothing to do when it is up already; a
#                              half-started one is taken down first)
#   scripts/cluster.sh down    stop it and remove everything it made
#   scripts/cluster.sh status  say whether it is up; exit 0 only when it is
#
# Layout. The node lives in the network namespace hive-k8s, joined to the host
# by the veth pair hivek8s0 (host, 198.18.0.1) / eth0 (node, 198.18.0.2); pods
# get 198.18.16.0/24 on the bridge hive-cni0, Services 198.18.32.0/24. Every
# address is from 198.18.0.0/15 (benchmarking, not a network anyone uses).
# The host routes both ranges through the veth, so a ClusterIP answers from
# the host. etcd, containerd (its own config, root, state and socket; never
# Docker's), the control plane, the kubelet and kube-proxy run in the
# namespace; kube-proxy's iptables rules stay there. No cluster DNS.
#
# Images: Debian's docker-registry serves 127.0.0.1:$HIVE_REGISTRY_PORT (5055)
# on the host, where Docker pushes over plain HTTP; socat forwards the veth
# address 198.18.0.1:PORT to it, and the node's containerd maps the name
# 127.0.0.1:PORT to that address, so one image name works on both sides.
#
# Files: state in $HIVE_CLUSTER_DIR (/var/lib/hive-infra/cluster), sockets and
# pid files in $HIVE_CLUSTER_RUN (/run/hive-infra/cluster). The kubeconfig is
# $HIVE_CLUSTER_DIR/admin.kubeconfig (export KUBECONFIG=...), and
# $HIVE_CLUSTER_DIR/cluster.env says KUBECONFIG, KUBECTL, REGISTRY, NODE_IP and
# SERVICE_CIDR for the tests. Each component logs to $HIVE_CLUSTER_DIR/logs/,
# which `down` keeps (the rest of the folder goes).
#
# What this machine needs (each made a pod or the kubelet fail): the kubelet
# accepts cgroup v1 only with failCgroupV1: false (cgroupfs driver); root here
# lacks CAP_SYS_RESOURCE, so containerd restricts oom_score_adj; the hostname
# resolves to 127.0.0.1, so the apiserver reaches the kubelet by InternalIP and
# the kubelet is given its node IP; the kubelet changes global kernel settings,
# which `up` records and `down` restores. `down` ends by checking that nothing
# of the cluster is left, and fails naming what is. More in docs/testing.md
# (The Kubernetes tier).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${HIVE_CLUSTER_DIR:-/var/lib/hive-infra/cluster}
RUN=${HIVE_CLUSTER_RUN:-/run/hive-infra/cluster}
PORT=${HIVE_REGISTRY_PORT:-5055}
NS=hive-k8s
HOST_IF=hivek8s0
HOST_IP=198.18.0.1
NODE_IP=198.18.0.2
POD_CIDR=198.18.16.0/24
SERVICE_CIDR=198.18.32.0/24
NODE_NAME=hive-node
CGROUP=hive-k8s
SOCK=$RUN/containerd/containerd.sock
LOGS=$DIR/logs
PKI=$DIR/pki
# The global kernel settings the kubelet (and kube-proxy's conntrack, which
# is configured not to) may change: recorded by up, restored by down.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
    kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max)
# Host folders the components make at fixed paths, whatever they are told:
# `up` records which existed, `down` removes what is ours in them and the
# folders it made, once empty. (/run/containerd/s, where containerd 1.6 puts
# its shims' sockets, is shared with Docker's containerd: only our shims'
# sockets go, and they remove them themselves.)
HOST_PATHS=(/run/netns /var/log/containers /var/lib/kubelet /var/lib/cni /usr/libexec/kubernetes)
# The CNI network's name; libcni caches results as /var/lib/cni/results/<name>-*.
CNI_NAME=hive-k8s
# Started in this order, stopped in the reverse one.
COMPONENTS=(registry forwarder etcd containerd kube-apiserver kube-controller-manager
    kube-scheduler kubelet kube-proxy)

log() { printf 'cluster: %s\n' "$*" >&2; }
die() {
    printf 'cluster: error: %s\n' "$*" >&2
    exit 1
}
# fail COMPONENT WHAT: dies naming the component, with its log's tail.
fail() {
    local f="$LOGS/$1.log"
    [ -f "$f" ] && tail -n 25 "$f" | sed 's/^/  | /' >&2
    die "$1: $2 (log: $f; \`$0 down\` removes what was started)"
}
# nsenter, not `ip netns exec`: only the network namespace, so that the mounts
# the kubelet and containerd make are in the host's mount namespace, seen by both.
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

k8s_bin() {
    bash "$script_dir/build-kubernetes.sh" --print-bin 2>/dev/null ||
        die "the Kubernetes binaries are not built: run scripts/build-kubernetes.sh"
}

# --- processes ------------------------------------------------------------------
pidfile() { printf '%s/pids/%s.pid' "$RUN" "$1"; }

# alive NAME: true when NAME's recorded pid runs the command it was started as
# (a recycled pid does not count).
alive() {
    local f pid
    f=$(pidfile "$1")
    [ -f "$f" ] || return 1
    read -r pid <"$f" || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(sed -n 2p "$f")"
}

# start NAME [--ns] CMD...: starts CMD in its own session (in the node's
# namespace with --ns), output to its log; records its pid and a piece of its
# command line (the binary) to recognise it by.
start() {
    local name=$1 pid
    shift
    local prefix=()
    if [ "$1" = --ns ]; then
        prefix=(nsenter --net="/run/netns/$NS")
        shift
    fi
    : >"$LOGS/$name.log"
    "${prefix[@]}" setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
    pid=$!
    printf '%s\n%s\n' "$pid" "$1" >"$(pidfile "$name")"
    log "$name started (pid $pid)"
}

# wait_for NAME SECONDS CMD...: polls CMD each 0.5 s until it succeeds; fails
# NAME when it dies or SECONDS pass.
wait_for() {
    local name=$1 seconds=$2 i
    shift 2
    for ((i = 0; i < seconds * 2; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        alive "$name" || fail "$name" "exited while starting"
        sleep 0.5
    done
    fail "$name" "not ready after ${seconds}s (waited for: $*)"
}

# stop NAME: TERM, then KILL after 20 s, the recorded pid; forgets it.
stop() {
    local f pid i
    f=$(pidfile "$1")
    [ -f "$f" ] || return 0
    if alive "$1"; then
        read -r pid <"$f"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            alive "$1" || break
            sleep 0.5
        done
        if alive "$1"; then
            log "$1 (pid $pid) ignored TERM for 20s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
        fi
        log "$1 stopped"
    fi
    rm -f "$f"
}

# --- certificates and kubeconfigs ------------------------------------------------
# cert NAME SUBJECT USAGE [SAN]: a P-256 key and a certificate signed by the CA.
cert() {
    local name=$1 subject=$2 usage=$3 san=${4:-}
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$usage"
        [ -z "$san" ] || echo "subjectAltName=$san"
    } >"$PKI/$name.ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subject" \
        -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>>"$LOGS/pki.log"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>>"$LOGS/pki.log"
}

# kubeconfig NAME CERT: $DIR/NAME.kubeconfig for the client certificate CERT.
kubeconfig() {
    cat >"$DIR/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: hive
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$2.crt")
    client-key-data: $(base64 -w0 <"$PKI/$2.key")
contexts:
- name: hive
  context: {cluster: hive, user: $2, namespace: default}
current-context: hive
EOF
    chmod 0600 "$DIR/$1.kubeconfig"
}

make_pki() {
    mkdir -p "$PKI"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
        -subj "/CN=hive-k8s-ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>>"$LOGS/pki.log" || fail pki "openssl could not make the CA"
    {
        cert apiserver "/CN=kube-apiserver" serverAuth \
            "IP:$NODE_IP,IP:127.0.0.1,IP:${SERVICE_CIDR%.0/24}.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$NODE_NAME"
        cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
        cert admin "/O=system:masters/CN=hive-admin" clientAuth
        cert controller-manager "/CN=system:kube-controller-manager" clientAuth
        cert scheduler "/CN=system:kube-scheduler" clientAuth
        cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
        cert kube-proxy "/CN=system:kube-proxy" clientAuth
        openssl genrsa -out "$PKI/sa.key" 2048 2>>"$LOGS/pki.log"
        openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>>"$LOGS/pki.log"
    } || fail pki "openssl could not make the certificates"
    for c in admin controller-manager scheduler kubelet kube-proxy; do
        kubeconfig "$c" "$c"
    done
}

# --- configuration files -------------------------------------------------------------
write_configs() {
    local bin=$1 pause_ref
    pause_ref=$(cat "$bin/../pause.ref")
    mkdir -p "$DIR/containerd/certs.d/127.0.0.1:$PORT" "$DIR/cni/net.d" "$DIR/registry"
    cat >"$DIR/containerd/config.toml" <<EOF
# The cluster's own containerd: nothing shared with Docker's.
version = 2
root = "$DIR/containerd/root"
state = "$RUN/containerd/state"
# (The legacy runtime v1 stays: containerd 1.6's task service needs it loaded.)
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_ref"
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DIR/containerd/certs.d"
EOF
    cat >"$DIR/containerd/certs.d/127.0.0.1:$PORT/hosts.toml" <<EOF
# The host's registry, reached through the veth (socat forwards to it).
server = "http://127.0.0.1:$PORT"
[host."http://$HOST_IP:$PORT"]
  capabilities = ["pull", "resolve"]
EOF
    cat >"$DIR/cni/net.d/10-hive.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "$CNI_NAME", "plugins": [
  {"type": "bridge", "bridge": "hive-cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$DIR/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
    cat >"$DIR/registry.yml" <<EOF
version: 0.1
log: {level: info, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $DIR/registry}
  delete: {enabled: true}
http: {addr: "127.0.0.1:$PORT"}
EOF
    cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 here: accepted, with the cgroupfs driver under a root of our own.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
containerRuntimeEndpoint: unix://$SOCK
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
podLogsDir: $DIR/pod-logs
volumePluginDir: $DIR/kubelet-plugins
resolvConf: ""
failSwapOn: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%}
maxPods: 30
EOF
    cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $DIR/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
# Zero: leave the (global) conntrack settings as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# --- network -----------------------------------------------------------------------
make_network() {
    ip netns add "$NS" || fail network "ip netns add $NS failed"
    ip link add "$HOST_IF" type veth peer name eth0 netns "$NS" || fail network "cannot make the veth pair"
    ip addr add "$HOST_IP/30" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    in_ns ip link set lo up
    in_ns ip addr add "$NODE_IP/30" dev eth0
    in_ns ip link set eth0 up
    # Forwarding and bridge filtering inside the namespace only (per-namespace settings).
    in_ns sysctl -qw net.ipv4.ip_forward=1
    in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || log "note: no net.bridge.bridge-nf-call-iptables in the namespace"
    ip route add "$SERVICE_CIDR" via "$NODE_IP" dev "$HOST_IF"
    ip route add "$POD_CIDR" via "$NODE_IP" dev "$HOST_IF"
}

# make_cgroups: the kubelet's cgroup root in every v1 hierarchy (cpuset needs
# its cpus and mems copied from the parent before tasks can join).
make_cgroups() {
    local h
    for h in /sys/fs/cgroup/*/; do
        mountpoint -q "$h" || continue
        mkdir -p "$h$CGROUP"
        if [ -f "${h}cpuset.cpus" ]; then
            cat "${h}cpuset.cpus" >"$h$CGROUP/cpuset.cpus"
            cat "${h}cpuset.mems" >"$h$CGROUP/cpuset.mems"
        fi
    done
}

record_sysctls() {
    local s
    [ -f "$DIR/sysctl.saved" ] && return 0
    for s in "${SYSCTLS[@]}"; do
        printf '%s=%s\n' "$s" "$(sysctl -n "$s")"
    done >"$DIR/sysctl.saved.tmp"
    mv "$DIR/sysctl.saved.tmp" "$DIR/sysctl.saved"
}

# --- up ------------------------------------------------------------------------------
kubectl_admin() { "$KUBECTL" --kubeconfig "$DIR/admin.kubeconfig" --request-timeout=5s "$@"; }
node_ready() {
    [ "$(kubectl_admin get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
api_ready() {
    curl -fsS --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
        "https://$NODE_IP:6443/readyz" >/dev/null
}

up() {
    local bin start=$SECONDS
    [ "$(id -u)" = 0 ] || die "needs root (network namespace, mounts, cgroups)"
    for tool in etcd containerd ctr runc docker-registry socat openssl curl ip iptables; do
        command -v "$tool" >/dev/null || die "$tool is not installed (.ci/run installs the cluster's Debian packages)"
    done
    [ -x /usr/lib/cni/bridge ] || die "the CNI plugins are not installed (apt-get install containernetworking-plugins)"
    bin=$(k8s_bin)
    KUBECTL=$bin/kubectl
    if is_up; then
        log "already up (KUBECONFIG=$DIR/admin.kubeconfig)"
        return 0
    fi
    if [ -e "$DIR/made.env" ] || [ -d "$RUN" ] || ip netns list | grep -qw "$NS"; then
        log "a previous cluster is partly there; taking it down first"
        down
    fi
    ip link show "$HOST_IF" >/dev/null 2>&1 && die "$HOST_IF exists but this script has no record of it; remove it by hand"
    if curl -s --max-time 2 "http://127.0.0.1:$PORT/" >/dev/null 2>&1; then
        die "port $PORT (HIVE_REGISTRY_PORT) is taken on 127.0.0.1"
    fi
    mkdir -p "$DIR" "$LOGS" "$RUN/pids" "$RUN/containerd" "$DIR/pod-logs"
    for p in "${HOST_PATHS[@]}"; do
        if [ -e "$p" ]; then echo "$p=existed"; else echo "$p=made"; fi
    done >"$DIR/made.env"
    record_sysctls
    make_network
    make_cgroups
    make_pki
    write_configs "$bin"

    start registry docker-registry serve "$DIR/registry.yml"
    wait_for registry 20 curl -fsS --max-time 2 "http://127.0.0.1:$PORT/v2/"
    start forwarder socat "TCP-LISTEN:$PORT,bind=$HOST_IP,fork,reuseaddr" "TCP:127.0.0.1:$PORT"
    wait_for forwarder 10 curl -fsS --max-time 2 "http://$HOST_IP:$PORT/v2/"

    start etcd --ns etcd --name "$NODE_NAME" --data-dir "$DIR/etcd" \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster "$NODE_NAME=http://127.0.0.1:2380"
    wait_for etcd 30 in_ns curl -fsS --max-time 2 http://127.0.0.1:2379/health

    start containerd --ns containerd --config "$DIR/containerd/config.toml"
    wait_for containerd 30 ctr -a "$SOCK" version
    ctr -a "$SOCK" -n k8s.io images import "$bin/../pause.tar" >>"$LOGS/containerd.log" 2>&1 ||
        fail containerd "could not import the pause image $bin/../pause.tar"

    start kube-apiserver --ns "$bin/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
        --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
        --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range=30000-32767 \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --client-ca-file="$PKI/ca.crt" \
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
        --kubelet-preferred-address-types=InternalIP \
        --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc \
        --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
        --allow-privileged=true --profiling=false
    wait_for kube-apiserver 60 api_ready

    start kube-controller-manager --ns "$bin/kube-controller-manager" \
        --kubeconfig="$DIR/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$DIR/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$DIR/controller-manager.kubeconfig" \
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
        --use-service-account-credentials=true --leader-elect=false --bind-address=127.0.0.1 \
        --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false \
        --flex-volume-plugin-dir="$DIR/kubelet-plugins"
    start kube-scheduler --ns "$bin/kube-scheduler" --kubeconfig="$DIR/scheduler.kubeconfig" \
        --authentication-kubeconfig="$DIR/scheduler.kubeconfig" \
        --authorization-kubeconfig="$DIR/scheduler.kubeconfig" \
        --leader-elect=false --bind-address=127.0.0.1 --profiling=false
    start kubelet --ns "$bin/kubelet" --config="$DIR/kubelet.yaml" --kubeconfig="$DIR/kubelet.kubeconfig" \
        --root-dir="$DIR/kubelet" --cert-dir="$DIR/kubelet/pki" --node-ip="$NODE_IP" \
        --hostname-override="$NODE_NAME"
    start kube-proxy --ns "$bin/kube-proxy" --config="$DIR/kube-proxy.yaml"

    wait_for kubelet 90 node_ready
    for c in kube-controller-manager kube-scheduler kube-proxy; do
        alive "$c" || fail "$c" "exited"
    done
    # Pods are refused until the controller-manager made the default ServiceAccount.
    wait_for kube-controller-manager 60 kubectl_admin get serviceaccount default -n default

    cat >"$DIR/cluster.env" <<EOF
KUBECONFIG=$DIR/admin.kubeconfig
KUBECTL=$KUBECTL
REGISTRY=127.0.0.1:$PORT
NODE_IP=$NODE_IP
SERVICE_CIDR=$SERVICE_CIDR
EOF
    log "up in $((SECONDS - start))s: node $NODE_NAME Ready; KUBECONFIG=$DIR/admin.kubeconfig, registry 127.0.0.1:$PORT"
}

# --- status --------------------------------------------------------------------------
is_up() {
    local c
    [ -f "$DIR/cluster.env" ] || return 1
    for c in "${COMPONENTS[@]}"; do
        alive "$c" || return 1
    done
    node_ready
}

status() {
    local c bin
    bin=$(k8s_bin)
    KUBECTL=$bin/kubectl
    for c in "${COMPONENTS[@]}"; do
        if alive "$c"; then
            printf '%-24s running (pid %s)\n' "$c" "$(head -1 "$(pidfile "$c")")"
        else
            printf '%-24s not running\n' "$c"
        fi
    done
    if is_up; then
        echo "up: node $NODE_NAME Ready; KUBECONFIG=$DIR/admin.kubeconfig"
        return 0
    fi
    echo "down"
    return 1
}

# --- down ----------------------------------------------------------------------------
# kill_cgroup_procs: kills what is left in the cluster's cgroups (the
# containers, when containerd could not stop them).
kill_cgroup_procs() {
    local f pid
    for f in /sys/fs/cgroup/pids/"$CGROUP"/cgroup.procs /sys/fs/cgroup/pids/"$CGROUP"/*/cgroup.procs \
        /sys/fs/cgroup/pids/"$CGROUP"/*/*/cgroup.procs /sys/fs/cgroup/pids/"$CGROUP"/*/*/*/cgroup.procs \
        /sys/fs/cgroup/pids/"$CGROUP"/*/*/*/*/cgroup.procs; do
        [ -f "$f" ] || continue
        while read -r pid; do
            kill -KILL "$pid" 2>/dev/null || true
        done <"$f"
    done
}

# stop_containers: every task in the cluster's containerd killed and deleted
# (their shims then exit and remove their sockets), while containerd runs.
stop_containers() {
    local ids id
    alive containerd || return 0
    mapfile -t ids < <(ctr -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null)
    for id in "${ids[@]}"; do
        ctr -a "$SOCK" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in "${ids[@]}"; do
        timeout 20 ctr -a "$SOCK" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
    done
    [ "${#ids[@]}" -eq 0 ] || log "stopped ${#ids[@]} containers"
}

# pids_with WORD...: the processes with one of the WORDs in an argument (one
# grep over every command line; the words reach it through a file, so that its
# own command line does not match).
pids_with() {
    grep -lszFf <(printf '%s\n' "$@") /proc/[0-9]*/cmdline | cut -d/ -f3 || true
}

# kill_shims: any runc shim still serving the cluster's containerd (known by
# the socket path on its command line, which only this cluster uses).
kill_shims() {
    local pid
    for pid in $(pids_with "$SOCK"); do
        kill -KILL "$pid" 2>/dev/null || true
    done
}

remove_cgroups() {
    local h i
    for h in /sys/fs/cgroup/*/; do
        [ -d "$h$CGROUP" ] || continue
        # Deepest first; a cgroup whose tasks are exiting may need a moment.
        for ((i = 0; i < 20; i++)); do
            find "$h$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [ -d "$h$CGROUP" ] || break
            sleep 0.5
        done
        [ -d "$h$CGROUP" ] && log "warning: could not remove $h$CGROUP"
    done
    return 0
}

unmount_under() {
    local m
    while read -r m; do
        umount -l "$m" 2>/dev/null || log "warning: could not unmount $m"
    done < <(awk -v a="$1/" '{gsub(/\\040/, " ", $5); if (index($5, a) == 1) print $5}' /proc/self/mountinfo | sort -r)
}

restore_sysctls() {
    local line
    [ -f "$DIR/sysctl.saved" ] || return 0
    while IFS= read -r line; do
        sysctl -qw "$line" >/dev/null || log "warning: could not restore $line"
    done <"$DIR/sysctl.saved"
    rm -f "$DIR/sysctl.saved"
}

# clean_host_paths: what the components put in HOST_PATHS, and each of those
# folders that `up` made, once empty.
clean_host_paths() {
    local p f
    for f in /var/log/containers/*; do
        if [ -L "$f" ] && [[ "$(readlink "$f")" == "$DIR/"* ]]; then rm -f "$f"; fi
    done
    # libcni's cached results of our pods' networks and of their loopbacks.
    for f in /var/lib/cni/results/"$CNI_NAME"-*-eth0; do
        [ -e "$f" ] || continue
        f=${f#/var/lib/cni/results/"$CNI_NAME"-}
        rm -f "/var/lib/cni/results/$CNI_NAME-$f" "/var/lib/cni/results/cni-loopback-${f%-eth0}-lo"
    done
    [ -f "$DIR/made.env" ] || return 0
    for p in "${HOST_PATHS[@]}"; do
        grep -qxF "$p=made" "$DIR/made.env" || continue
        [ -e "$p" ] || continue
        if [ "$p" = /run/netns ]; then
            if [ -z "$(ls -A /run/netns)" ]; then umount /run/netns 2>/dev/null || true; fi
        elif [ "$p" = /var/lib/kubelet ]; then
            # The device manager's socket, at a path compiled into the kubelet.
            rm -f /var/lib/kubelet/device-plugins/kubelet.sock
        fi
        find "$p" -depth -type d -empty -delete 2>/dev/null || true
        [ -e "$p" ] && log "warning: $p (made by the cluster) is not empty; left in place"
    done
    return 0
}

# leftovers: what the cluster would have left behind (none after a good down).
leftovers() {
    local p h
    ip netns list | grep -qw "$NS" && echo "network namespace $NS"
    ip link show "$HOST_IF" >/dev/null 2>&1 && echo "link $HOST_IF"
    awk -v a="$DIR/" -v b="$RUN/" '(index($5, a) == 1 || index($5, b) == 1) {print "mount " $5}' /proc/self/mountinfo
    for h in /sys/fs/cgroup/*/"$CGROUP"; do
        [ -d "$h" ] && echo "cgroup $h"
    done
    # The components and shims, known by arguments only this cluster uses (the
    # containers are known by their cgroups, checked above).
    for p in $(pids_with "$SOCK" "bind=$HOST_IP" "$DIR/registry.yml" "$DIR/containerd/config.toml" \
        "$NODE_NAME=http://127.0.0.1:2380" "--kubeconfig=$DIR/" "--config=$DIR/"); do
        echo "process $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-100)"
    done
    return 0
}

down() {
    local c left
    [ "$(id -u)" = 0 ] || die "needs root"
    rm -f "$DIR/cluster.env"
    # The kubelet first, so that it restarts nothing; containers while containerd runs.
    for c in kube-proxy kubelet; do stop "$c"; done
    stop_containers
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
        stop "${COMPONENTS[i]}"
    done
    kill_shims
    kill_cgroup_procs
    unmount_under "$RUN"
    unmount_under "$DIR"
    remove_cgroups
    if ip netns list | grep -qw "$NS"; then
        ip netns delete "$NS" || log "warning: could not delete the network namespace $NS"
    fi
    # (Deleting the namespace removes the pair, perhaps a moment later.)
    if ip link show "$HOST_IF" >/dev/null 2>&1; then ip link delete "$HOST_IF" 2>/dev/null || true; fi
    clean_host_paths
    restore_sysctls
    # Everything but the logs, which tell what happened.
    if [ -d "$DIR" ]; then
        find "$DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
    fi
    rm -rf "$RUN"
    rmdir "$(dirname "$RUN")" 2>/dev/null || true
    left=$(leftovers)
    if [ -n "$left" ]; then
        printf '%s\n' "$left" | sed 's/^/  left: /' >&2
        die "down left the above behind"
    fi
    log "down: no process, namespace, link, mount or cgroup of the cluster is left (logs kept in $LOGS)"
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    ;;
*) die "usage: $0 up|down|status" ;;
esac
