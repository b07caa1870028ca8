#!/usr/bin/env bash
# Run the test suite: keep .venv in step with requirements-dev.txt (a hash
# stamp makes this a no-op when nothing changed), then run pytest with the
# given arguments, e.g.  scripts/test.sh -k election -x
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
REQUIREMENTS="requirements-dev.txt"
STAMP="$VENV/.requirements.sha256"

log() { printf '[test.sh] %s\n' "$*" >&2; }

# shellcheck source=scripts/lib/require.sh
source scripts/lib/require.sh
require_programs python3:python3 sha256sum:coreutils
# The network faults (tests/support/netfault.py) run iptables inside a
# container's network namespace, entered with nsenter; the iptables package
# carries both the nft and the legacy backend, the tool picks the one that works.
require_programs iptables:iptables iptables-legacy:iptables nsenter:util-linux
# The browser tests (tests/stack/test_page.py) drive Debian's own headless
# Chromium through its matching driver: no browser download at run time.
# CHROMIUM and CHROMEDRIVER name another pair (e.g. a CI runner's own Chrome).
if [ -z "${CHROMIUM:-}" ] || [ -z "${CHROMEDRIVER:-}" ]; then
    require_programs chromium:chromium chromedriver:chromium-driver
fi

# Hash the requirements file, the files it includes with -r (one level), and
# the interpreter version.
requirements_hash() {
    local dir included
    dir="$(dirname "$REQUIREMENTS")"
    {
        cat "$REQUIREMENTS"
        sed -n 's/^[[:space:]]*-r[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$REQUIREMENTS" |
            while read -r included; do cat "$dir/$included"; done
        python3 --version
    } | sha256sum | cut -d' ' -f1
}

want="$(requirements_hash)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    log "creating $VENV"
    rm -rf "$VENV"
    require_python_venv
    python3 -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    log "installing $REQUIREMENTS into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    echo "$want" >"$STAMP"
fi

exec "$VENV/bin/python" -m pytest "$@"
