#!/bin/bash
# zk-healthcheck [HOST[:PORT] ...]
# Healthy while a server is serving: `srvr` answers with Mode leader, follower
# or observer (ensemble) or standalone. A server without quorum answers "This
# ZooKeeper instance is not currently serving requests". With no argument it
# asks this container's own server (the image's HEALTHCHECK); with several it
# succeeds as soon as one serves (zk-wait-quorum asks the whole ensemble: a
# server that leads or follows is part of a quorum that serves).
# Uses bash's /dev/tcp: no extra packages. Needs srvr in the 4lw whitelist.
set -uo pipefail

[ "$#" -gt 0 ] || set -- "127.0.0.1:${ZOO_PORT:-2181}"

last=""
for target in "$@"; do
    host="${target%%:*}"
    port="${target#*:}"
    [ "$port" != "$target" ] || port="${ZOO_PORT:-2181}"
    # shellcheck disable=SC2016 # expanded by the inner bash
    reply="$(timeout 2 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf srvr >&3
        cat <&3
    ' _ "$host" "$port" 2>/dev/null)"

    mode="$(printf '%s\n' "$reply" | sed -n 's/^Mode: //p')"
    case "$mode" in
        leader | follower | observer | standalone)
            echo "Mode: $mode"
            exit 0
            ;;
    esac
    last="$target not serving: $(printf '%s\n' "${reply:-no answer on port $port}" | head -n 1)"
done
echo "$last"
exit 1
