#!/usr/bin/env bash
# A Docker engine for `make up`, `make test` and `.ci/run`: the one place that
# starts one, and stops only the one it started.
#
#   dockerd.sh start   nothing when `docker info` answers; else, as root on a
#                      machine with no init system (no systemd: the project's
#                      machines), Debian's docker.io installed when missing and
#                      dockerd started in the background, left running, with its
#                      log and pid file under DOCKERD_DIR (default
#                      /tmp/hive-dockerd). Prints on stdout the pid it started
#                      (nothing when one answered already); on stderr what it did,
#                      the log, the pid and how to stop it. Otherwise exits 1
#                      saying what is missing and how to start an engine.
#   dockerd.sh stop [PID]
#                      stops the dockerd `start` started (recorded in
#                      DOCKERD_DIR/started.pid), only when it is still that
#                      dockerd, and PID (when given) is that one; never another.
set -euo pipefail

DIR="${DOCKERD_DIR:-/tmp/hive-dockerd}"
# dockerd lives in /usr/sbin, which a user's PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"
STARTED="$DIR/started.pid"
WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"

say() { echo "dockerd: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

answers() { docker info >/dev/null 2>&1; }

# The pid in STARTED when that process is still a dockerd, else nothing.
started_pid() {
    local pid
    pid="$(cat "$STARTED" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = dockerd ] && echo "$pid"
    return 0
}

has_init_system() { [ -d /run/systemd/system ]; }

start() {
    if command -v docker >/dev/null && answers; then
        say "a Docker engine answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        die "no Docker engine answers (docker info failed); start yours (e.g. \`sudo systemctl start docker\`), \
add your user to the docker group, or set DOCKER_HOST to one; as root on a machine with no init system this script starts one"
    fi
    if has_init_system; then
        die "no Docker engine answers (docker info failed); start it with \`systemctl start docker\` \
(install it with \`apt-get install docker.io\` when missing)"
    fi
    if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
        command -v apt-get >/dev/null || die "no dockerd installed and no apt-get to install Debian's docker.io with"
        mkdir -p "$DIR"
        say "apt-get install docker.io (no dockerd is installed; log $DIR/apt-get.log)"
        if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io; } \
            </dev/null >"$DIR/apt-get.log" 2>&1; then
            tail -n 20 "$DIR/apt-get.log" >&2
            die "apt-get install docker.io failed (log: $DIR/apt-get.log)"
        fi
    fi
    local pid
    # One that is starting (another script's, a user's): wait for it rather than start a second.
    if pid="$(pgrep -x dockerd | head -n1)" && [ -n "$pid" ]; then
        say "a dockerd (pid $pid) runs but does not answer yet: waiting up to $WAIT_SECONDS s for it"
        for _ in $(seq "$WAIT_SECONDS"); do
            answers && { say "it answers; not started here"; return 0; }
            sleep 1
        done
        die "dockerd (pid $pid, not started by this script) does not answer docker info; its log says why"
    fi
    mkdir -p "$DIR"
    # Its own session: it outlives the make or shell that started it.
    setsid dockerd --pidfile "$DIR/dockerd.pid" >"$DIR/dockerd.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$STARTED"
    for _ in $(seq "$WAIT_SECONDS"); do
        answers && break
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$DIR/dockerd.log" >&2
            rm -f "$STARTED"
            die "dockerd exited before answering (log: $DIR/dockerd.log)"
        fi
        sleep 1
    done
    if ! answers; then
        tail -n 20 "$DIR/dockerd.log" >&2
        die "dockerd (pid $pid) did not answer docker info within $WAIT_SECONDS s (log: $DIR/dockerd.log)"
    fi
    # dockerd's own pid file is the truth (setsid may have forked); that is the one stop will stop.
    pid="$(cat "$DIR/dockerd.pid" 2>/dev/null || echo "$pid")"
    echo "$pid" >"$STARTED"
    say "started dockerd $(docker info --format '{{.ServerVersion}}') (pid $pid, log $DIR/dockerd.log); it keeps running; \
stop it with: bash scripts/dockerd.sh stop"
    echo "$pid"
}

stop() {
    local want="${1:-}" pid
    pid="$(started_pid)"
    if [ -z "$pid" ]; then
        say "no dockerd started by this script is running (nothing stopped)"
        rm -f "$STARTED"
        return 0
    fi
    if [ -n "$want" ] && [ "$want" != "$pid" ]; then
        say "pid $want is not the dockerd this script started ($pid): nothing stopped"
        return 0
    fi
    say "stopping the dockerd this script started (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) still runs 30 s after SIGTERM"
    rm -f "$STARTED"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*) die "usage: $0 start | stop [PID]" ;;
esac
