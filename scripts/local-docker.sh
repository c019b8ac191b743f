#!/usr/bin/env bash
# Build the advsynth SageMaker images locally, with no image registry.
#
#   bash scripts/local-docker.sh    # developer (root, or sudo + docker group)
#                                   # and from .ci/run (root, CI=true, no stdin)
#
# Idempotent: every phase checks whether its product already exists, so a
# rerun on a machine that has everything costs a few seconds.
#
# Phases (each prints its wall time):
#   apt        install docker.io, docker-compose, debootstrap if missing
#   dockerd    start dockerd if `docker info` fails (overlay2 if the kernel
#              allows it, else --storage-driver=vfs; see pick_storage_driver)
#   base       build advsynth-base:bookworm from a debootstrap rootfs (cached tarball)
#   wheelhouse pip wheel the project and its core deps into build/wheelhouse
#   generator  docker build advsynth-generator:latest (--network none)
#   detector   docker build advsynth-detector:latest (--network none)
#
# Environment knobs (all optional):
#   ADVSYNTH_DOCKER_CACHE   rootfs tarball cache dir      (/var/cache/advsynth)
#   ADVSYNTH_DOCKERD_LOG    dockerd log file              (/tmp/advsynth-dockerd.log)
#   ADVSYNTH_DOCKERD_WAIT   seconds to wait for dockerd   (60)
#   ADVSYNTH_DOCKER_STORAGE auto|overlay2|vfs             (auto)
#   ADVSYNTH_DOCKERD_FLAGS  extra dockerd flags
#   ADVSYNTH_DEBIAN_MIRROR  debootstrap mirror            (first deb.debian.org-style URI apt uses)
#   ADVSYNTH_SKIP_BASE=1    don't build the base image; use BASE_IMAGE as given
#   BASE_IMAGE              base image for the role images (advsynth-base:bookworm)
#   ADVSYNTH_REPO           repo root to build from       (parent of this script's dir)
set -Eeuo pipefail

REPO_ROOT="${ADVSYNTH_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CACHE_DIR="${ADVSYNTH_DOCKER_CACHE:-/var/cache/advsynth}"
DOCKERD_LOG="${ADVSYNTH_DOCKERD_LOG:-/tmp/advsynth-dockerd.log}"
DOCKERD_WAIT="${ADVSYNTH_DOCKERD_WAIT:-60}"
BASE_IMAGE="${BASE_IMAGE:-advsynth-base:bookworm}"
BASE_SUITE="bookworm"
BASE_TARBALL="$CACHE_DIR/advsynth-base-$BASE_SUITE.tar"
WHEELHOUSE="$REPO_ROOT/build/wheelhouse"
ROLES=(generator detector)

PHASE="setup"
T_SCRIPT=$(date +%s.%N)

log()  { printf '[local-docker] %s\n' "$*"; }
die()  { printf '[local-docker] FAILED in phase %s: %s\n' "$PHASE" "$*" >&2; exit 1; }
trap 'rc=$?; trap - ERR; printf "[local-docker] FAILED in phase %s (exit %s, line %s): see output above\n" "$PHASE" "$rc" "$LINENO" >&2; exit "$rc"' ERR

# One run at a time (a developer's and CI's, or two shells): they would race to
# start dockerd and to write build/.
LOCK_FILE="${TMPDIR:-/tmp}/advsynth-local-docker.lock"
exec 9>>"$LOCK_FILE"
if command -v flock >/dev/null 2>&1 && ! flock -w 1800 9; then
    die "another local-docker.sh still holds $LOCK_FILE after 30 min"
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run as root"
    SUDO="sudo"
fi

phase_start() { PHASE="$1"; T0=$(date +%s.%N); }
phase_end() {   # phase_end "what happened"
    local t1; t1=$(date +%s.%N)
    printf '[local-docker] phase %-10s %7ss  %s\n' "$PHASE" "$(elapsed "$T0" "$t1")" "$1"
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- apt
phase_start apt
missing=()
command -v dockerd        >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap    >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null || die "apt-get update failed"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
    phase_end "installed ${missing[*]}"
else
    phase_end "already installed"
fi

# overlay2 when the kernel can mount overlayfs on the filesystem of
# /var/lib/docker (ext4 here: 3-10x faster builds and far less disk than vfs,
# which copies the whole filesystem for every layer and container); else vfs,
# which works anywhere (e.g. when /var/lib/docker itself is on overlayfs).
# ADVSYNTH_DOCKER_STORAGE=vfs|overlay2 forces one.
pick_storage_driver() {
    local want="${ADVSYNTH_DOCKER_STORAGE:-auto}" root=/var/lib/docker probe
    if [ "$want" != auto ]; then echo "$want"; return; fi
    $SUDO mkdir -p "$root"
    if [ "$(stat -f -c %T "$root" 2>/dev/null)" = overlayfs ] || ! grep -qw overlay /proc/filesystems; then
        echo vfs; return
    fi
    probe=$($SUDO mktemp -d "$root/.overlay-probe.XXXXXX")
    $SUDO mkdir -p "$probe"/{lower,upper,work,merged}
    if $SUDO mount -t overlay overlay \
            -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
        $SUDO umount "$probe/merged"; echo overlay2
    else
        echo vfs
    fi
    $SUDO rm -rf "$probe"
}

# ---------------------------------------------------------------- dockerd
phase_start dockerd
if docker info >/dev/null 2>&1; then
    phase_end "already running"
else
    pidfile=/var/run/docker.pid
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        $SUDO rm -f "$pidfile"          # stale pidfile of a killed daemon blocks startup
    fi
    if [ -f "$pidfile" ]; then
        log "dockerd (pid $(cat "$pidfile")) is running but not answering yet; waiting"
    else
        driver=$(pick_storage_driver)
        # Default bridge + iptables work in this VM, so `docker compose` can create
        # its project network; job containers themselves can use --network none.
        log "starting dockerd --storage-driver=$driver (log: $DOCKERD_LOG)"
        $SUDO sh -c "setsid nohup dockerd --storage-driver=$driver ${ADVSYNTH_DOCKERD_FLAGS:-} \
            >>'$DOCKERD_LOG' 2>&1 </dev/null 9>&- &"    # 9>&-: don't inherit our lock
    fi
    deadline=$(( $(date +%s) + DOCKERD_WAIT ))
    until docker info >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
            die "dockerd not ready after ${DOCKERD_WAIT}s (log: $DOCKERD_LOG)"
        fi
        sleep 0.5
    done
    phase_end "started ($(docker info --format 'server {{.ServerVersion}}, storage {{.Driver}}' 2>/dev/null))"
fi
if [ -S /var/run/docker.sock ] && [ "$(id -u)" -ne 0 ] && ! docker info >/dev/null 2>&1; then
    die "docker socket not accessible: add yourself to the docker group or run as root"
fi

# ---------------------------------------------------------------- base image
phase_start base
if [ "${ADVSYNTH_SKIP_BASE:-0}" = 1 ]; then
    docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || die "ADVSYNTH_SKIP_BASE=1 but $BASE_IMAGE is absent"
    phase_end "skipped (using $BASE_IMAGE)"
elif docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    phase_end "$BASE_IMAGE exists"
else
    what="imported cached $BASE_TARBALL"
    if [ ! -s "$BASE_TARBALL" ]; then
        what="debootstrap + import"
        mirror="${ADVSYNTH_DEBIAN_MIRROR:-}"
        if [ -z "$mirror" ]; then
            # Use the mirror apt already uses (deb822 or one-line format).
            mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
                | grep -v -- '-security' | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' \
                | awk '{print $1; exit}' || true)
            mirror="${mirror:-http://deb.debian.org/debian}"
        fi
        $SUDO mkdir -p "$CACHE_DIR"
        $SUDO rm -rf "$CACHE_DIR"/rootfs.* "$BASE_TARBALL.tmp"   # leftovers of an interrupted run
        rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
        log "debootstrap $BASE_SUITE from $mirror into $rootfs"
        if ! $SUDO debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
                "$BASE_SUITE" "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1; then
            $SUDO rm -rf "$rootfs"
            die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"
        fi
        # Slim the rootfs: no apt lists/caches, docs, man pages, non-English locales.
        $SUDO rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
            "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
            "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
            "$rootfs"/usr/share/locale/* "$rootfs"/debootstrap
        $SUDO tar --numeric-owner -C "$rootfs" -cf "$BASE_TARBALL.tmp" . \
            && $SUDO mv "$BASE_TARBALL.tmp" "$BASE_TARBALL"
        $SUDO rm -rf "$rootfs"
    fi
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        "$BASE_TARBALL" "$BASE_IMAGE" >/dev/null || die "docker import of $BASE_TARBALL failed"
    phase_end "$what -> $BASE_IMAGE"
fi

# ---------------------------------------------------------------- wheelhouse
phase_start wheelhouse
mkdir -p "$WHEELHOUSE"
cd "$REPO_ROOT"
# Reproducible advsynth wheel (fixed zip timestamps): same sources -> same
# bytes -> docker layer cache hit, even in a fresh clone.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-315532800}"
# Offline first: on a warm machine every dependency wheel (and setuptools for
# the isolated build of our own wheel) is already in the wheelhouse, so only
# advsynth itself is rebuilt, without asking PyPI. Fall back to the index when
# the wheelhouse lacks something (first run, or pyproject.toml changed).
pip_wheel() {
    python3 -m pip wheel --disable-pip-version-check --quiet \
        --wheel-dir "$WHEELHOUSE" --find-links "$WHEELHOUSE" "$@" .
}
if pip_wheel --no-index >/dev/null 2>&1; then
    how="offline from cached wheels"
else
    # (pip may print "Location ... is ignored" warnings for this machine's extra indexes.)
    if ! pip_wheel 2>&1 | sed '/is ignored: it is neither a file nor a directory/d' >&2; then
        die "pip wheel failed (does the project build? see output above)"
    fi
    # Keep the build backend too, so the next run can build offline.
    python3 -m pip download --disable-pip-version-check --quiet --only-binary :all: \
        --dest "$WHEELHOUSE" 'setuptools>=69' wheel 2>/dev/null || log "warning: could not cache setuptools wheel"
    how="from PyPI"
fi
project_wheel=$(ls -t "$WHEELHOUSE"/advsynth-*.whl 2>/dev/null | head -n 1 || true)
[ -n "$project_wheel" ] || die "no advsynth wheel in $WHEELHOUSE"
rm -rf "$REPO_ROOT/build/project" && mkdir -p "$REPO_ROOT/build/project"
cp -p "$project_wheel" "$REPO_ROOT/build/project/"
phase_end "$how ($(ls "$WHEELHOUSE"/*.whl | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1))"

# ---------------------------------------------------------------- role images
# Build context streamed as a tar: the dependency wheels, the advsynth wheel
# apart (build/project, so the deps layer's cache survives source edits),
# containers/ and pyproject.toml. The repo's .git, runs/ etc. never reach dockerd.
build_context() {
    tar -C "$REPO_ROOT" -cf - --exclude='build/wheelhouse/advsynth-*' \
        build/wheelhouse build/project containers pyproject.toml
}
for role in "${ROLES[@]}"; do
    phase_start "$role"
    image="advsynth-$role:latest"
    blog="/tmp/advsynth-build-$role.log"
    if ! build_context | docker build --network none \
            -f containers/Dockerfile \
            --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "ROLE=$role" \
            --build-arg PROJECT_WHEELS=build/project \
            -t "$image" - 2>&1 | while IFS= read -r line; do
                printf '%s %s\n' "$(date +%T)" "$line"; done >"$blog"; then
        tail -n 30 "$blog" >&2
        die "docker build of $image failed (log: $blog)"
    fi
    steps=$(grep -c ' Step ' "$blog" || true); cached=$(grep -c 'Using cache' "$blog" || true)
    phase_end "$image $(docker image inspect --format '{{.Id}} {{.Size}}' "$image" \
        | awk '{printf "%s %.0fMB", substr($1,8,12), $2/1e6}') ($cached/$steps steps cached)"
done
# Old role images replaced by this build are dangling now: drop them (vfs keeps
# a full copy of the filesystem per layer, so they cost GBs). Only ours, by label.
docker image prune --force --filter label=com.advsynth.image=role >/dev/null 2>&1 || true

PHASE=done
T1=$(date +%s.%N)
images="$BASE_IMAGE"
for role in "${ROLES[@]}"; do images+=" advsynth-$role:latest"; done
log "total $(elapsed "$T_SCRIPT" "$T1")s; images: $images"
