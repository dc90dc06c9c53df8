#!/bin/sh
# make bench drives the server with wrk (a compiled load generator: a Python one on the
# same CPUs blurred the figures). Install Debian's package when it is missing.
set -e
command -v wrk >/dev/null 2>&1 && exit 0
echo "ensure_wrk: installing wrk (apt-get install -y wrk)"
if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
else
    sudo apt-get install -y wrk >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y wrk >/dev/null; }
fi
command -v wrk >/dev/null 2>&1 || { echo "ensure_wrk: could not install wrk" >&2; exit 1; }
