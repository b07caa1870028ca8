#!/bin/bash
# Healthy while HAProxy runs AND routes to a leader: its monitor endpoint on
# 127.0.0.1:8404 (inside the container only, never published) answers 200
# only while the `leader` backend has a usable server. Uses bash's /dev/tcp:
# no extra packages.
set -uo pipefail

# shellcheck disable=SC2016 # expanded by the inner bash
status="$(timeout 2 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/8404 || exit 1
    printf "GET /gateway/health HTTP/1.0\r\n\r\n" >&3
    head -n 1 <&3
' 2>/dev/null)"

case "$status" in
    *" 200 "*) echo "routing to a leader"; exit 0 ;;
esac
echo "not routing: ${status:-no answer on 127.0.0.1:8404}"
exit 1
