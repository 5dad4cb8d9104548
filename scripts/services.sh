#!/usr/bin/env bash
# The real services the integration tests use, made present and healthy.
# Usage: services.sh redis|postgres|localstack|browser|all|env
#   redis       ping Redis on 127.0.0.1:${REDIS_PORT:-6379}; start a throwaway one if down
#   postgres    the machine's PostgreSQL on 127.0.0.1:${PGPORT:-5432}; its cluster started if down
#   localstack  scripts/localstack.sh start (install on first use)
#   browser     Debian's chromium for the HTML report's browser test (installed if missing)
#   all         all of them
#   env         print the exports the tests read (eval "$(scripts/services.sh env)")
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REDIS_PORT=${REDIS_PORT:-6379}
LOCALSTACK_PORT=${LOCALSTACK_PORT:-4566}
PG_PORT=${PGPORT:-5432}
PG_DATABASE=${PG_DATABASE:-test}
WAIT_S=${REDIS_WAIT_S:-20}

say() { printf 'services.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

redis_answers() {
    [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

ensure_redis() {
    command -v redis-cli >/dev/null && command -v redis-server >/dev/null \
        || die "redis-server/redis-cli not found (apt-get install redis-server)"
    if redis_answers; then
        say "redis answers on 127.0.0.1:$REDIS_PORT ($(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server | tr -d '\r' | sed -n 's/^redis_version://p'))"
        return
    fi
    say "redis not answering on 127.0.0.1:$REDIS_PORT: starting one"
    mkdir -p /var/lib/redis /var/log/redis
    # Nothing is persisted: the tests' keys are throwaway and CI needs no state.
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
        --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
        || die "redis-server failed to start (see /var/log/redis/ci.log)"
    local started=$SECONDS
    until redis_answers; do
        if (( SECONDS - started >= WAIT_S )); then
            tail -n 20 /var/log/redis/ci.log >&2 || true
            die "redis not answering on 127.0.0.1:$REDIS_PORT after ${WAIT_S} s"
        fi
        sleep 0.5
    done
    say "redis started and answering on 127.0.0.1:$REDIS_PORT"
}

pg_answers() {
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null
}

ensure_postgres() {
    command -v pg_isready >/dev/null || die "pg_isready not found (apt-get install postgresql)"
    if ! pg_answers; then
        say "postgresql not answering on 127.0.0.1:$PG_PORT: starting the machine's cluster"
        local version
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
        [[ -n $version ]] || die "no cluster in /etc/postgresql (apt-get install postgresql)"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start \
            || die "pg_ctlcluster $version main start failed"
        local started=$SECONDS
        until pg_answers; do
            (( SECONDS - started >= WAIT_S )) && die "postgresql not answering on 127.0.0.1:$PG_PORT after ${WAIT_S} s"
            sleep 0.5
        done
    fi
    # The consumers' database: created once, kept (each run makes its own schema in it).
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc \
            "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1; then
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "CREATE DATABASE \"$PG_DATABASE\"" \
            || die "could not create database $PG_DATABASE"
    fi
    say "postgresql answers on 127.0.0.1:$PG_PORT ($(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$PG_DATABASE" -Atqc 'SHOW server_version'), database $PG_DATABASE)"
}

ensure_browser() {
    if command -v chromium >/dev/null; then
        say "chromium present ($(chromium --version 2>/dev/null | head -n 1))"
        return
    fi
    command -v apt-get >/dev/null || die "chromium missing and no apt-get to install it"
    say "installing Debian's chromium (the HTML report is checked in a real browser)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
            || die "apt-get install chromium failed"
    fi
    say "chromium installed ($(chromium --version 2>/dev/null | head -n 1))"
}

ensure_localstack() {
    "$ROOT/scripts/localstack.sh" start
}

print_env() {
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    echo "export LOCALSTACK_ENDPOINT=http://127.0.0.1:$LOCALSTACK_PORT"
    echo "export DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DATABASE"
}

case ${1:-} in
    redis) ensure_redis ;;
    postgres) ensure_postgres ;;
    localstack) ensure_localstack ;;
    browser) ensure_browser ;;
    all) ensure_redis; ensure_postgres; ensure_localstack; ensure_browser ;;
    env) print_env ;;
    *) echo "usage: $0 redis|postgres|localstack|browser|all|env" >&2; exit 2 ;;
esac
