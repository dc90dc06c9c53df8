#!/bin/sh
# make test checks deploy/nginx/smsbridge.conf with `nginx -t` (tests/deploy/test_nginx.py).
# Where nginx is not installed, unpack Debian's package under var/tools/nginx: the binary
# only, so nothing is installed system-wide and no nginx service starts. Never fails the
# build: without apt (another OS), the test says it skipped and why.
set -e
command -v nginx >/dev/null 2>&1 && exit 0
TOOLS="$(cd "$(dirname "$0")/.." && pwd)/var/tools/nginx"
[ -x "$TOOLS/usr/sbin/nginx" ] && exit 0
command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || {
    echo "ensure_nginx: no apt-get/dpkg here; the nginx -t check will be skipped"
    exit 0
}
mkdir -p "$TOOLS/deb"
if (cd "$TOOLS/deb" && apt-get download nginx >/dev/null 2>&1) && dpkg -x "$TOOLS"/deb/nginx_*.deb "$TOOLS"; then
    echo "ensure_nginx: unpacked $("$TOOLS/usr/sbin/nginx" -v 2>&1) under var/tools/nginx"
else
    echo "ensure_nginx: could not fetch Debian's nginx package; the nginx -t check will be skipped"
fi
