#!/bin/sh
# scripts/bench_instructions.py counts instructions per request under valgrind (callgrind):
# noise-free where req/s on a shared machine is not. Install Debian's package when it is missing.
set -e
command -v valgrind >/dev/null 2>&1 && exit 0
echo "ensure_valgrind: installing valgrind (apt-get install -y valgrind)"
if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y valgrind >/dev/null || { apt-get update >/dev/null && apt-get install -y valgrind >/dev/null; }
else
    sudo apt-get install -y valgrind >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y valgrind >/dev/null; }
fi
command -v valgrind >/dev/null 2>&1 || { echo "ensure_valgrind: could not install valgrind" >&2; exit 1; }
