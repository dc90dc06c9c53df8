#!/bin/sh
# Run a command, and run it again whenever it exits on its own.
#
# make run starts its processes with honcho, which stops every process as soon as one
# exits: one worker that died on a Redis restart took the whole development stack down.
# Each line of deploy/Procfile.dev runs its command through this loop instead, so a
# crashed process comes back after a pause (1 s, doubling to 30 s while it keeps dying
# within a minute of its start), the way systemd's Restart= and the container
# runtimes' restart policies bring production processes back.
#
# SIGTERM or SIGINT (honcho's stop, Ctrl-C) stops the command and ends the loop.
#
# Usage: scripts/restarting.sh COMMAND [ARG...]
set -u

child=0
stop() {
    trap - TERM INT
    if [ "$child" -ne 0 ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    exit 0
}
trap stop TERM INT

delay=1
while :; do
    started=$(date +%s)
    "$@" &
    child=$!
    wait "$child"
    status=$?
    child=0
    if [ $(($(date +%s) - started)) -ge 60 ]; then
        delay=1  # it ran a good while: a fresh crash, not a crash loop
    fi
    echo "restarting.sh: '$1' exited with status $status; starting it again in $delay s" >&2
    sleep "$delay" &
    child=$!
    wait "$child"
    child=0
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
