#!/usr/bin/env bash
# Watch a leader failover by hand, against a running stack: `zkleader failover`
# (services/api/zkleader/cli/failover.py; docs/operations.md) run from this
# checkout. It shows every instance, kills the leader (`docker compose kill`, or
# `stop` with --graceful), polls until the survivors agree on a successor, prints
# the failover time, restarts the old leader and watches it rejoin as follower.
#
# Usage: scripts/failover.sh [-p PROJECT] [--graceful] [--timeout SECONDS]
#                            [--interval SECONDS] [--json]
#   -p PROJECT ($COMPOSE_PROJECT_NAME, else zkleader), --timeout ($FAILOVER_TIMEOUT,
#   else 3 x the session timeout + 5 s), --interval ($FAILOVER_POLL_INTERVAL, 0.2),
#   $FAILOVER_REJOIN_TIMEOUT (60 s); --help for all options.
# Exit status: 0 done; 1 no single leader within the bound (or the killed
# instance did not rejoin); 2 usage error or the stack is not ready.
# Needs docker compose and python3: the command's dependencies (pinned in
# services/api/requirements.txt) go into $ZKLEADER_VENV (default .venv-ops) once.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ZKLEADER_VENV:-$ROOT/.venv-ops}"
REQUIREMENTS="$ROOT/services/api/requirements.txt"
die() { printf 'failover.sh: %s\n' "$1" >&2; exit 2; }

command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH"
want="$({ cat "$REQUIREMENTS"; python3 --version; } | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ] || [ ! -x "$VENV/bin/python" ]; then
    printf 'failover.sh: installing the command'"'"'s dependencies into %s\n' "$VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) ||
        die "could not install $REQUIREMENTS into $VENV"
    echo "$want" >"$VENV/.requirements.sha256"
fi
# From the source tree, so that the command is always this checkout's.
PYTHONPATH="$ROOT/services/api${PYTHONPATH:+:$PYTHONPATH}" \
    exec "$VENV/bin/python" -m zkleader failover --project-directory "$ROOT" "$@"
