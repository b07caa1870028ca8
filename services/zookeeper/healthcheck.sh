#!/bin/bash
# Healthy only while this server is serving: `srvr` answers with Mode leader,
# follower or observer (ensemble) or standalone. A server without quorum
# answers "This ZooKeeper instance is not currently serving requests".
# Uses bash's /dev/tcp: no extra packages. Needs srvr in the 4lw whitelist.
set -uo pipefail

port="${ZOO_PORT:-2181}"
# shellcheck disable=SC2016 # expanded by the inner bash
reply="$(timeout 2 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf srvr >&3
    cat <&3
' _ "$port" 2>/dev/null)"

mode="$(printf '%s\n' "$reply" | sed -n 's/^Mode: //p')"
case "$mode" in
    leader | follower | observer | standalone)
        echo "Mode: $mode"
        exit 0
        ;;
esac
echo "not serving: ${reply:-no answer on port $port}" | head -n 1
exit 1
