#!/usr/bin/env bash
# The real services the integration tests use, made present and healthy.
# Usage: services.sh redis|localstack|all|env
#   redis       ping Redis on 127.0.0.1:${REDIS_PORT:-6379}; start a throwaway one if down
#   localstack  scripts/localstack.sh start (install on first use)
#   all         both
#   env         print the exports the tests read (eval "$(scripts/services.sh env)")
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REDIS_PORT=${REDIS_PORT:-6379}
LOCALSTACK_PORT=${LOCALSTACK_PORT:-4566}
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

ensure_localstack() {
    "$ROOT/scripts/localstack.sh" start
}

print_env() {
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    echo "export LOCALSTACK_ENDPOINT=http://127.0.0.1:$LOCALSTACK_PORT"
}

case ${1:-} in
    redis) ensure_redis ;;
    localstack) ensure_localstack ;;
    all) ensure_redis; ensure_localstack ;;
    env) print_env ;;
    *) echo "usage: $0 redis|localstack|all|env" >&2; exit 2 ;;
esac
