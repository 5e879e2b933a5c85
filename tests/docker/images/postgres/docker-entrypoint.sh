#!/bin/bash
# The official postgres image's entrypoint contract, over Debian's server binaries:
# - root: makes PGDATA (0700, owned by postgres), then runs itself again as postgres;
# - an empty PGDATA: initdb as POSTGRES_USER with POSTGRES_PASSWORD (required),
#   network logins by scram-sha-256 from every address, socket logins trusted
#   (as the official image); then a server on the socket only creates POSTGRES_DB
#   (when it is not "postgres") and runs /docker-entrypoint-initdb.d/*.sql|*.sh;
# - then `exec postgres "$@"` (the command's `-c` flags), listening on every address.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"
fi

: "${PGDATA:?PGDATA must be set}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chmod 00700 "$PGDATA"
    chown postgres:postgres "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    # The password reaches initdb on its standard input, never in argv.
    printf '%s\n' "$POSTGRES_PASSWORD" |
        initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin --auth-local=trust --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA"
    {
        echo
        echo "# docker-entrypoint.sh: network logins from every address, by password"
        echo "host all all all scram-sha-256"
    } >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

    # Init-only server: on the socket alone, so pg_isready -h 127.0.0.1 says "no" until it is done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres)
    if [ "$POSTGRES_DB" != postgres ]; then
        "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        # shellcheck disable=SC1090 # the init scripts are the user's
        case "$f" in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *) [ -e "$f" ] && echo "ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
