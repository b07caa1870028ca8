# shellcheck shell=bash
# Sourced by the scripts: make sure the programs a script calls are there.
#
#   require_programs PROGRAM:DEBIAN_PACKAGE ...
#   require_python_venv
#
# Each program missing from PATH is installed from its Debian package with
# apt-get (as root on a Debian-like machine), running `apt-get update` first
# when the package lists are empty or the package is not found in them. Quiet
# and instant when everything is present. Where a program cannot be had (not
# root, no apt-get, the install fails), it stops at once with one line that
# names the program and says how to get it.

_require_log() { printf '[require] %s\n' "$*" >&2; }

_require_apt_lists_empty() {
    ! find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null | grep -q .
}

# _require_install WHAT PACKAGE...: install the Debian packages that provide WHAT, or stop with one line.
_require_install() {
    local what="$1"
    shift
    local how="apt-get install $*"
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        _require_log "ERROR: $what not found; install it first ($how, as root on Debian)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if _require_apt_lists_empty; then
        _require_log "apt package lists are empty: apt-get update"
        apt-get update -qq >/dev/null || { _require_log "ERROR: apt-get update failed (needed for $what)"; exit 1; }
    fi
    _require_log "installing $* (for $what)"
    if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
        # The lists may be stale: refresh once and try again.
        apt-get update -qq >/dev/null 2>&1 || true
        if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
            _require_log "ERROR: could not install $* for $what ($how)"
            exit 1
        fi
    fi
}

require_programs() {
    local pair program
    local -a packages=() programs=()
    for pair in "$@"; do
        program="${pair%%:*}"
        command -v "$program" >/dev/null 2>&1 && continue
        programs+=("$program")
        packages+=("${pair#*:}")
    done
    [ "${#packages[@]}" -eq 0 ] && return 0
    _require_install "${programs[*]}" "${packages[@]}"
    for program in "${programs[@]}"; do
        command -v "$program" >/dev/null 2>&1 ||
            { _require_log "ERROR: $program still not on PATH after installing its package"; exit 1; }
    done
}

# Debian's python3 leaves `python3 -m venv` (ensurepip) to a package of its own.
require_python_venv() {
    python3 -c 'import ensurepip' 2>/dev/null && return 0
    local version
    version="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    _require_install "python3 -m venv" "python${version}-venv"
}
