# shellcheck shell=bash
# Sourced by the scripts: make sure the programs a script calls are there.
#
#   require_programs PROGRAM:DEBIAN_PACKAGE ...
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

require_programs() {
    local pair program package
    local -a missing_packages=() missing_programs=()
    for pair in "$@"; do
        program="${pair%%:*}"
        package="${pair#*:}"
        command -v "$program" >/dev/null 2>&1 && continue
        missing_programs+=("$program")
        missing_packages+=("$package")
    done
    [ "${#missing_packages[@]}" -eq 0 ] && return 0

    local how="apt-get install ${missing_packages[*]}"
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        _require_log "ERROR: ${missing_programs[*]} not found on PATH; install it first ($how, as root on Debian)"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if _require_apt_lists_empty; then
        _require_log "apt package lists are empty: apt-get update"
        apt-get update -qq >/dev/null || { _require_log "ERROR: apt-get update failed"; exit 1; }
    fi
    _require_log "installing ${missing_packages[*]} (for ${missing_programs[*]})"
    if ! apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null 2>&1; then
        # The lists may be stale: refresh once and try again.
        apt-get update -qq >/dev/null 2>&1 || true
        if ! apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null; then
            _require_log "ERROR: could not install ${missing_packages[*]} for ${missing_programs[*]} ($how)"
            exit 1
        fi
    fi
    for program in "${missing_programs[@]}"; do
        command -v "$program" >/dev/null 2>&1 ||
            { _require_log "ERROR: $program still not on PATH after installing its package"; exit 1; }
    done
}
