#!/bin/bash
# zk-wait-quorum [HOST[:PORT] ...]
# Exit 0 as soon as one of the ensemble's servers serves (leads or follows:
# a quorum is up), 1 after ZK_QUORUM_WAIT_SECONDS (default 120) without one.
# compose.yaml runs it as the one-shot `zk-quorum` service the instances
# depend on: an instance starts whenever a quorum can serve, whatever the
# health of any single server (`docker compose start api1` re-runs it).
set -uo pipefail

[ "$#" -gt 0 ] || { echo "usage: zk-wait-quorum HOST[:PORT] ..." >&2; exit 2; }
deadline=$((SECONDS + ${ZK_QUORUM_WAIT_SECONDS:-120}))
while true; do
    if verdict="$(zk-healthcheck "$@")"; then
        echo "quorum serving: $verdict"
        exit 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "no quorum within ${ZK_QUORUM_WAIT_SECONDS:-120} s: $verdict" >&2
        exit 1
    fi
    sleep 0.5
done
