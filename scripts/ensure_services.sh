#!/usr/bin/env bash
# Make sure the services SMS Bridge needs answer; start local ones that are installed
# but stopped. Never stops or kills anything.
#
#   scripts/ensure_services.sh              Redis ($REDIS_URL), and PostgreSQL when
#                                           $DATABASE_URL is a postgres URL
#   scripts/ensure_services.sh --postgres   also PostgreSQL (default URL below) and
#                                           create the database named in the URL
#
# Exit status 0 when everything answers, 1 with one "error: ..." line otherwise.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379/0"
DEFAULT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/smsbridge"
WAIT_SECONDS=20

want_postgres=0
create_db=0
for arg in "$@"; do
    case "$arg" in
        --postgres) want_postgres=1; create_db=1 ;;
        -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "error: unknown argument: $arg (usage: $0 [--postgres])" >&2; exit 2 ;;
    esac
done

die() {
    echo "error: $*" >&2
    exit 1
}

is_postgres_url() {
    case "$1" in
        postgres://* | postgresql://* | pgsql://* | postgis://*) return 0 ;;
        *) return 1 ;;
    esac
}

is_local_host() {
    case "$1" in
        127.0.0.1 | localhost | ::1 | "") return 0 ;;
        *) return 1 ;;
    esac
}

# parse_url URL DEFAULT_PORT -> sets url_host url_port url_user url_password url_path
parse_url() {
    local fields
    fields="$(python3 - "$1" "$2" <<'EOF'
import sys
from urllib.parse import unquote, urlsplit

url, default_port = sys.argv[1], sys.argv[2]
parts = urlsplit(url)
try:
    port = parts.port or int(default_port)
except ValueError:
    sys.exit(f"error: invalid port in URL {url!r}")
print(parts.hostname or "127.0.0.1")
print(port)
print(unquote(parts.username or ""))
print(unquote(parts.password or ""))
print(unquote(parts.path.lstrip("/")))
print(".")  # keeps $(...) from stripping the empty fields above
EOF
)" || exit 1
    {
        IFS= read -r url_host
        IFS= read -r url_port
        IFS= read -r url_user
        IFS= read -r url_password
        IFS= read -r url_path
    } <<<"$fields"
}

# True when something accepts TCP connections on host:port.
port_open() {
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

wait_for() {
    local what="$1" check="$2" i
    for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
        if "$check"; then
            return 0
        fi
        sleep 0.5
    done
    die "$what did not answer within ${WAIT_SECONDS}s after starting it"
}

# ---------------------------------------------------------------------------- Redis

redis_url="${REDIS_URL:-$DEFAULT_REDIS_URL}"
case "$redis_url" in
    redis://* | rediss://*) ;;
    *) die "REDIS_URL must be a redis:// or rediss:// URL, got: $redis_url" ;;
esac
parse_url "$redis_url" 6379
redis_host="$url_host"
redis_port="$url_port"

# Sets redis_reply to what the server (or the client) said, for error messages.
redis_reply=""
redis_ping() {
    if command -v redis-cli >/dev/null 2>&1; then
        redis_reply="$(timeout 5 redis-cli --no-auth-warning -u "$redis_url" ping 2>&1)" || return 1
        [[ "$redis_reply" == PONG ]]
    elif [[ -x "$REPO_ROOT/.venv/bin/python" ]]; then
        redis_reply="$(timeout 5 "$REPO_ROOT/.venv/bin/python" -c \
            'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2, socket_timeout=2).ping()' \
            "$redis_url" 2>&1 | tail -n 1)" || return 1
    else
        # Neither redis-cli nor the venv yet: a bare RESP PING over /dev/tcp.
        # shellcheck disable=SC2016
        timeout 5 bash -c '
            exec 3<>"/dev/tcp/$0/$1" || exit 1
            printf "PING\r\n" >&3
            IFS= read -r -t 3 reply <&3 || exit 1
            [[ "$reply" == "+PONG"* ]]
        ' "$redis_host" "$redis_port" 2>/dev/null
    fi
}

ensure_redis() {
    local where="$redis_host:$redis_port"
    if redis_ping; then
        echo "ok: Redis answers at $where"
        return 0
    fi
    if port_open "$redis_host" "$redis_port"; then
        local reply="${redis_reply//$'\n'/ }"
        die "something listens on $where but Redis PING fails: ${reply:-no PONG}. Check REDIS_URL"
    fi
    if ! is_local_host "$redis_host"; then
        die "Redis does not answer at $where (REDIS_URL points to another host; start it there)"
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        die "Redis is not installed: apt-get install redis-server"
    fi
    echo "Redis is not running; starting redis-server on port $redis_port ..."
    mkdir -p /var/lib/redis /var/log/redis || die "cannot create /var/lib/redis and /var/log/redis (run as root?)"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log \
        || die "redis-server failed to start (see /var/log/redis/ci.log)"
    wait_for "Redis at $where" redis_ping
    echo "ok: Redis answers at $where (started)"
}

# ----------------------------------------------------------------------- PostgreSQL

database_url="${DATABASE_URL:-}"
if is_postgres_url "$database_url"; then
    want_postgres=1
elif ((want_postgres)); then
    database_url="$DEFAULT_DATABASE_URL"
fi

pg_ready() {
    pg_isready -q -h "$pg_host" -p "$pg_port" -t 2 >/dev/null 2>&1
}

ensure_postgres() {
    parse_url "$database_url" 5432
    pg_host="$url_host"
    pg_port="$url_port"
    local user="${url_user:-postgres}" password="$url_password" dbname="$url_path"
    local where="$pg_host:$pg_port"

    if ! command -v pg_isready >/dev/null 2>&1; then
        die "PostgreSQL client tools are not installed: apt-get install postgresql-client"
    fi
    if pg_ready; then
        echo "ok: PostgreSQL answers at $where"
    else
        if ! is_local_host "$pg_host"; then
            die "PostgreSQL does not answer at $where (DATABASE_URL points to another host; start it there)"
        fi
        local version=""
        if [[ -d /etc/postgresql ]]; then
            version="$(ls /etc/postgresql | sort -V | tail -n 1)"
        fi
        if [[ -z "$version" ]] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
            die "PostgreSQL is not installed: apt-get install postgresql"
        fi
        echo "PostgreSQL is not running; starting cluster $version/main ..."
        pg_ctlcluster --skip-systemctl-redirect "$version" main start \
            || die "pg_ctlcluster $version main start failed (see /var/log/postgresql/)"
        wait_for "PostgreSQL at $where" pg_ready
        echo "ok: PostgreSQL answers at $where (started)"
    fi

    if ((create_db)); then
        [[ -n "$dbname" ]] || die "DATABASE_URL names no database: $database_url"
        if [[ -n "$password" ]]; then
            export PGPASSWORD="$password"
        fi
        local exists
        # The name goes through a psql variable, so it is quoted as a literal.
        exists="$(psql -h "$pg_host" -p "$pg_port" -U "$user" -d postgres -X -tA -v ON_ERROR_STOP=1 \
            -v dbname="$dbname" <<<"SELECT 1 FROM pg_database WHERE datname = :'dbname';" 2>&1)" \
            || die "cannot query PostgreSQL at $where as $user: ${exists//$'\n'/ }"
        if [[ "$exists" == 1 ]]; then
            echo "ok: database $dbname exists"
        else
            createdb -h "$pg_host" -p "$pg_port" -U "$user" "$dbname" \
                || die "createdb $dbname failed at $where as $user"
            echo "ok: database $dbname created"
        fi
    fi
}

ensure_redis
if ((want_postgres)); then
    ensure_postgres
fi
