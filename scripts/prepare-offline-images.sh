#!/usr/bin/env bash
# Prepare what `docker compose build` needs on a machine WITHOUT a Docker
# registry (but with a Debian mirror and PyPI):
#
#   1. a local Debian bookworm base image, made with debootstrap and
#      `docker import` (replaces debian:bookworm-slim from Docker Hub);
#   2. services/api/wheelhouse/: wheels for services/api/requirements.txt and
#      requirements-build.txt (the package's build backend) for CPython 3.11 /
#      manylinux x86_64 (pip inside the image installs from it);
#   3. entries in .env and tests/.env (compose reads .env from the project
#      directory, i.e. the directory of the first compose file) pointing the
#      builds at them; other lines of those files are preserved:
#        BASE_IMAGE=<local base>   (both Dockerfiles' base)
#        PIP_INSTALL_FLAGS=--no-index
#
# With Docker Hub and PyPI reachable none of this is needed: compose.yaml
# defaults to debian:bookworm-slim and an index-backed pip install.
#
# Idempotent and quick when done: the base image is kept (delete it with
# `docker rmi` to rebuild), wheels already in the wheelhouse are not fetched
# again. Needs root (debootstrap, installed from apt when missing) on Debian.
#
# Environment knobs:
#   BASE_IMAGE_NAME   local image name   (default zkleader-base/debian:bookworm)
#   DEBIAN_SUITE      (default bookworm)
#   DEBIAN_MIRROR     (default: first Debian URI in the host's apt sources)
#   ROOTFS_DIR        debootstrap work dir (default /var/cache/zkleader/rootfs-$DEBIAN_SUITE)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE_NAME="${BASE_IMAGE_NAME:-zkleader-base/debian:bookworm}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
ROOTFS_DIR="${ROOTFS_DIR:-/var/cache/zkleader/rootfs-${DEBIAN_SUITE}}"
REQUIREMENTS="$REPO_ROOT/services/api/requirements.txt"
BUILD_REQUIREMENTS="$REPO_ROOT/services/api/requirements-build.txt"
WHEELHOUSE="$REPO_ROOT/services/api/wheelhouse"
ENV_FILES=("$REPO_ROOT/.env" "$REPO_ROOT/tests/.env")

# shellcheck source=scripts/lib/require.sh
source "$REPO_ROOT/scripts/lib/require.sh"

START=$SECONDS
log() { printf '[prepare %3ds] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- apt mirror ------------------------------------------------------------
# First "URIs:" (deb822) or "deb URI" (one-line style) whose path ends in
# /debian, from the host's apt sources. Falls back to deb.debian.org.
find_mirror() {
    local suffix="$1" uri
    uri="$(
        {
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
                sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' | tr ' ' '\n'
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p'
        } | grep -E "^https?://[^[:space:]]+/${suffix}/?$" | head -n 1
    )" || true
    uri="${uri%/}"
    printf '%s\n' "${uri:-http://deb.debian.org/${suffix}}"
}

# --- 1. base image ---------------------------------------------------------
build_base_image() {
    if docker image inspect "$BASE_IMAGE_NAME" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE_NAME already present"
        return
    fi
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
    require_programs debootstrap:debootstrap

    local mirror security_mirror
    mirror="${DEBIAN_MIRROR:-$(find_mirror debian)}"
    security_mirror="${DEBIAN_SECURITY_MIRROR:-$(find_mirror debian-security)}"
    log "debootstrap $DEBIAN_SUITE (minbase) from $mirror into $ROOTFS_DIR"
    rm -rf "$ROOTFS_DIR"
    mkdir -p "$(dirname "$ROOTFS_DIR")"
    if ! debootstrap --variant=minbase "$DEBIAN_SUITE" "$ROOTFS_DIR" "$mirror" \
        >"$ROOTFS_DIR.log" 2>&1; then
        tail -n 30 "$ROOTFS_DIR.log" >&2
        die "debootstrap failed (full log: $ROOTFS_DIR.log)"
    fi
    log "debootstrap done; trimming the rootfs like debian:*-slim"

    local r="$ROOTFS_DIR"
    # Same apt sources layout as the official image (updates + security).
    rm -f "$r/etc/apt/sources.list"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $DEBIAN_SUITE $DEBIAN_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $DEBIAN_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # What debian:*-slim does: no docs/man/locales, apt cleans after itself.
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
    cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
    find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r/usr/share/man/"* "$r/usr/share/info/"* "$r/usr/share/locale/"* \
        "$r/usr/share/groff/"* "$r/usr/share/lintian/"*
    rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/cache/apt/"*.bin \
        "$r/var/lib/apt/lists/"* "$r/var/log/"*.log "$r/tmp/"*
    # Docker provides these at run time; do not bake the host's into the image.
    : >"$r/etc/resolv.conf"
    : >"$r/etc/hostname"

    log "importing as $BASE_IMAGE_NAME"
    tar --numeric-owner -C "$r" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --message "debootstrap --variant=minbase $DEBIAN_SUITE" \
        - "$BASE_IMAGE_NAME" >/dev/null
    rm -rf "$r"
    log "base image $BASE_IMAGE_NAME ready ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE_NAME" | awk '{printf "%d MB", $1/1e6}'))"
}

# --- 2. wheelhouse -----------------------------------------------------------
# Wheels for the API image's interpreter: Debian bookworm's python3 (3.11).
PIP_TARGET_FLAGS=(
    --only-binary=:all:
    --implementation cp --python-version 3.11 --abi cp311
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
    --platform manylinux_2_28_x86_64 --platform any
)

fill_wheelhouse() {
    if [ ! -f "$REQUIREMENTS" ]; then
        log "WARNING: $REQUIREMENTS not found; wheelhouse left as is"
        return
    fi
    mkdir -p "$WHEELHOUSE"
    local -a wanted=(-r "$REQUIREMENTS")
    [ ! -f "$BUILD_REQUIREMENTS" ] || wanted+=(-r "$BUILD_REQUIREMENTS")
    # Complete already? Resolve from the wheelhouse alone (no network; pip's
    # user/env configuration ignored so that no other source can help).
    if python3 -m pip --isolated download --quiet --no-index --find-links "$WHEELHOUSE" \
        -d "$WHEELHOUSE" "${PIP_TARGET_FLAGS[@]}" "${wanted[@]}" >/dev/null 2>&1; then
        log "wheelhouse complete ($(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels)"
        return
    fi
    log "downloading wheels for $(basename "$REQUIREMENTS") and $(basename "$BUILD_REQUIREMENTS") into ${WHEELHOUSE#"$REPO_ROOT"/}"
    # (pip's warnings about absent local find-links/index folders are dropped)
    python3 -m pip download --quiet --disable-pip-version-check \
        -d "$WHEELHOUSE" "${PIP_TARGET_FLAGS[@]}" "${wanted[@]}" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    log "wheelhouse ready ($(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels)"
}

# --- 3. .env ---------------------------------------------------------------
# Replace our keys, keep every other line.
write_env() {
    local env_file="$1" tmp keys
    local -a ours=(
        "BASE_IMAGE=$BASE_IMAGE_NAME"
        "PIP_INSTALL_FLAGS=--no-index"
    )
    [ -d "$(dirname "$env_file")" ] || return 0
    tmp="$(mktemp "$env_file.XXXXXX")"
    keys="$(printf '%s\n' "${ours[@]}" | cut -d= -f1 | paste -sd'|')"
    if [ -f "$env_file" ]; then
        grep -Ev "^[[:space:]]*(export[[:space:]]+)?(${keys})=" "$env_file" >"$tmp" || true
    fi
    printf '%s\n' "${ours[@]}" >>"$tmp"
    if [ -f "$env_file" ] && cmp -s "$tmp" "$env_file"; then
        rm -f "$tmp"
        log "${env_file#"$REPO_ROOT"/} already up to date"
    else
        chmod 0644 "$tmp"
        mv "$tmp" "$env_file"
        log "wrote ${env_file#"$REPO_ROOT"/}: $(printf '%s ' "${ours[@]}")"
    fi
}

docker info >/dev/null 2>&1 || die "docker engine not answering (see scripts/install-docker.sh)"
build_base_image
fill_wheelhouse
for env_file in "${ENV_FILES[@]}"; do
    write_env "$env_file"
done
log "done"
