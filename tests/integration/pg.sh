# PostgreSQL test clusters for the integration tests (sourced after
# lib.sh). Each cluster lives in a directory under $T, run by the
# `postgres` system user when the test runs as root (the server refuses
# root), listens on a free loopback port only, and is stopped by the PID in
# its postmaster.pid when the test exits (or by pg_stop / pg_kill).
#
#   pg_init NAME        initdb in $T/pg-NAME (trust auth on loopback)
#   pg_start NAME [-c setting=value ...]
#                       starts it on a free port; sets PG_PORT_<NAME>,
#                       PG_PID_<NAME> and PG_URL_<NAME>
#                       (postgresql://postgres@127.0.0.1:PORT)
#   pg_stop NAME        fast shutdown, waits for the exit
#   pg_kill NAME        kill -9 of the postmaster (a crashed machine)
#   pg_pause NAME       SIGSTOP of the postmaster and all its children (a
#                       database that stops answering while the kernel
#                       still accepts and acknowledges); pg_resume NAME
#                       sends them SIGCONT (pg_stop_all does too)
#   pg_sql NAME SQL     runs SQL with psql in database postgres; prints rows
#   pg_as_owner CMD...  runs CMD as the clusters' owner
#   pg_front NAME [ARGS...]
#                       a glasslogd front-end on the shared log $DB (a
#                       database URL) with $T/log.key, $T/submitters and
#                       --lease-ms ${LEASE_MS:-1000}; sets PID_<NAME>,
#                       URL_<NAME> and OUT_<NAME> (its stderr)
#   pg_leads FILE       whether the glasslogd logging to FILE took the lease

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
    fail "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql: run make deps (Debian: postgresql)"
command -v psql >/dev/null 2>&1 || fail "no psql: run make deps (Debian: postgresql-client)"
PG_NAMES=""

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || fail "running as root, but there is no postgres user to run the server"
    pg_as_owner() { runuser -u postgres -- "$@"; }
    # The owner must reach its directories under $T (which holds keys:
    # traverse only, no listing).
    chmod 711 "$T"
else
    pg_as_owner() { "$@"; }
fi

pg_dir() { echo "$T/pg-$1"; }

pg_init() {
    local d
    d=$(pg_dir "$1")
    mkdir -p "$d"
    [ "$(id -u)" -eq 0 ] && chown postgres "$d"
    chmod 700 "$d"
    pg_as_owner "$PG_BIN/initdb" -D "$d" -U postgres --auth=trust -E UTF8 >"$T/initdb-$1.log" 2>&1 ||
        fail "initdb $1: $(tail -5 "$T/initdb-$1.log")"
}

pg_start() {
    local name=$1 d port pid i
    shift
    d=$(pg_dir "$name")
    port=$(free_port)
    pg_as_owner "$PG_BIN/pg_ctl" -D "$d" -l "$d/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$d $*" \
        start >"$T/pg_ctl-$name.log" 2>&1 ||
        fail "cannot start PostgreSQL $name: $(tail -5 "$d/server.log" 2>/dev/null)"
    pid=$(head -1 "$d/postmaster.pid")
    [ -n "$pid" ] || fail "PostgreSQL $name: no postmaster.pid"
    case " $PG_NAMES " in *" $name "*) ;; *) PG_NAMES="$PG_NAMES $name" ;; esac
    eval "PG_PORT_$name=$port; PG_PID_$name=$pid; PG_URL_$name=postgresql://postgres@127.0.0.1:$port"
    for i in $(seq 100); do
        psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "PostgreSQL $name does not answer on port $port"
}

# The postmaster's PID, if it runs.
pg_pid() {
    local pid
    pid=$(eval echo "\${PG_PID_$1:-}")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

pg_wait_gone() {
    local i
    for i in $(seq 300); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    fail "PostgreSQL (pid $1) did not stop"
}

pg_stop() {
    local pid
    pid=$(pg_pid "$1") || return 0
    kill -INT "$pid"
    pg_wait_gone "$pid"
}

pg_kill() {
    local pid
    pid=$(pg_pid "$1") || fail "pg_kill: PostgreSQL $1 is not running"
    kill -9 "$pid"
    pg_wait_gone "$pid"
    # its backends notice the postmaster's death and exit by themselves
}

# The postmaster first, so it forks no backend after its children are
# listed.
pg_pause() {
    local pid
    pid=$(pg_pid "$1") || fail "pg_pause: PostgreSQL $1 is not running"
    kill -STOP "$pid"
    kill -STOP $(pgrep -P "$pid") 2>/dev/null
}

pg_resume() {
    local pid
    pid=$(pg_pid "$1") || return 0
    kill -CONT $(pgrep -P "$pid") "$pid" 2>/dev/null
}

pg_sql() {
    local port
    port=$(eval echo "\$PG_PORT_$1")
    psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "${PG_DB:-postgres}" \
        -c "$2"
}

pg_front() {
    local n=$1
    shift
    spawn "glasslogd-$n" "$GL_BIN/glasslogd" --store "$DB" --key "$T/log.key" \
        --submitters "$T/submitters" --listen 127.0.0.1:0 --lease-ms "${LEASE_MS:-1000}" "$@" ||
        fail "front-end $n did not start: $(cat "$SPAWN_OUT")"
    eval "PID_$n=$SPAWN_PID; URL_$n=$SPAWN_URL; OUT_$n=$SPAWN_OUT"
}

# pg_base_standby NAME PRIMARY [CONNINFO...]: cluster NAME's directory made
# a streaming standby of cluster PRIMARY (pg_basebackup -R, the extra
# conninfo words, e.g. application_name=X, in its primary_conninfo); sets
# S to its directory. Not started.
pg_base_standby() {
    local n=$1 p=$2 port
    shift 2
    eval "port=\$PG_PORT_$p"
    S=$(pg_dir "$n")
    mkdir -p "$S"
    [ "$(id -u)" -eq 0 ] && chown postgres "$S"
    chmod 700 "$S"
    pg_as_owner "$PG_BIN/pg_basebackup" -d "host=127.0.0.1 port=$port user=postgres $*" \
        -D "$S" -R -X stream -c fast > "$T/basebackup.log" 2>&1 ||
        fail "pg_basebackup: $(cat "$T/basebackup.log")"
    [ -f "$S/standby.signal" ] || fail "pg_basebackup -R made no standby.signal"
}

pg_leads() { grep -q "took the lease (epoch" "$1"; }

# pg_log_db: cluster "a" started, with an empty database "log"; sets DB.
pg_log_db() {
    pg_init a
    pg_start a
    pg_sql a "CREATE DATABASE log"
    DB="$PG_URL_a/log"
}

# pg_leader [ARGS...]: front-end A creates the log and takes the lease.
pg_leader() {
    pg_front A --create "$@"
    wait_until 10 pg_leads "$OUT_A" || fail "A did not take the lease: $(cat "$OUT_A")"
}

# pg_two_fronts: pg_leader, then front-end B starts (a follower).
pg_two_fronts() {
    pg_leader
    pg_front B
}

pg_stop_all() {
    local n pid
    for n in $PG_NAMES; do
        pid=$(pg_pid "$n") || continue
        pg_resume "$n" # a paused cluster would never act on its signal
        kill -QUIT "$pid" 2>/dev/null # immediate shutdown
        pg_wait_gone "$pid"
    done
}
# (the benchmark keeps its own traps and calls pg_stop_all itself)
if [ -z "${PG_OWN_TRAP:-}" ]; then
    trap 'pg_stop_all; for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
    trap 'exit 1' INT TERM # the clusters are stopped on a timeout's signal too
fi
