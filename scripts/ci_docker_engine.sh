#!/usr/bin/env bash
# Bring up what the container tests need on a registry-less Debian 12 machine (CI, dev boxes):
#   engine  install docker.io/docker-compose/debootstrap if missing and start dockerd if none answers
#   base    build the local test base image (Debian bookworm + python3) if it is missing
#   all     both (default)
# Everything here is test harness: the machine's CA bundle goes into the *test* base image so pip
# can reach the package index through this machine's TLS proxy. The project Dockerfile never
# carries it. Needs root for apt-get, dockerd and debootstrap.
set -euo pipefail

BASE_TAG="${SMCLUSTER_TEST_BASE:-smcluster-base:bookworm-tini}"
DOCKERD_LOG="${SMCLUSTER_DOCKERD_LOG:-/tmp/smcluster-dockerd.log}"
CA_BUNDLE="${SMCLUSTER_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

say() { echo "ci_docker_engine: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

engine_up() { docker info >/dev/null 2>&1; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker-compose >/dev/null || missing+=(docker-compose)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if ((${#missing[@]})); then
        [[ $EUID -eq 0 ]] || die "need root to apt-get install ${missing[*]}"
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# overlay2 where the kernel mounts an overlay on the engine's data root; vfs otherwise. vfs works
# on any filesystem but copies the whole image for every layer and every container: measured here,
# `docker run` of the 7 GB GPU image took 53 s under vfs and 0.5 s under overlay2, and a CPU image
# build 2 min 22 s against 1 min 32 s. SMCLUSTER_DOCKER_STORAGE chooses one outright.
storage_driver() {
    if [[ -n ${SMCLUSTER_DOCKER_STORAGE:-} ]]; then
        echo "$SMCLUSTER_DOCKER_STORAGE"
        return
    fi
    local root=/var/lib/docker probe
    mkdir -p "$root"
    probe="$(mktemp -d "$root/overlay-probe.XXXXXX")"
    mkdir -p "$probe"/{lower,upper,work,merged}
    if mount -t overlay overlay \
        -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" \
        2>/dev/null; then
        umount "$probe/merged"
        echo overlay2
    else
        echo vfs
    fi
    rm -rf "$probe"
}

start_engine() {
    if engine_up; then
        say "engine already running"
        return
    fi
    install_packages
    [[ $EUID -eq 0 ]] || die "no Docker engine answers and starting dockerd needs root"
    # No bridge or iptables (the machine's sandbox has neither).
    local driver
    driver="$(storage_driver)"
    say "starting dockerd with the $driver storage driver (log: $DOCKERD_LOG)"
    nohup dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver="$driver" \
        </dev/null >"$DOCKERD_LOG" 2>&1 &
    for _ in $(seq 60); do
        engine_up && {
            say "engine up"
            return
        }
        sleep 1
    done
    tail -20 "$DOCKERD_LOG" >&2 || true
    die "dockerd did not answer within 60 s"
}

build_base() {
    if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
        say "base image $BASE_TAG present"
        return
    fi
    install_packages
    [[ -r $CA_BUNDLE ]] || die "CA bundle $CA_BUNDLE not found (set SMCLUSTER_CA_BUNDLE)"
    rootfs="$(mktemp -d /tmp/smcluster-rootfs.XXXXXX)"
    trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
    say "debootstrap bookworm into $rootfs (about a minute)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates,tini \
        bookworm "$rootfs" >"$rootfs.log" 2>&1 || {
        tail -20 "$rootfs.log" >&2
        die "debootstrap failed"
    }
    cp "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$rootfs/etc/pip.conf"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import - "$BASE_TAG" >/dev/null
    say "imported $BASE_TAG"
}

# The container tests build two images (1.2 GB and 7 GB; under `vfs` each layer a full copy).
# Superseded test builds of this project are removed first; then the space left is reported,
# so a full disk reads as one line here, not as a suite of errors later.
NEEDED_GB="${SMCLUSTER_TEST_DISK_GB:-25}"
make_room() {
    docker image prune --force \
        --filter label=org.opencontainers.image.title=smcluster \
        --filter label=org.opencontainers.image.version=test >/dev/null || true
    local root free_gb
    root="$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)"
    free_gb=$(($(df -Pk "$root" | awk 'NR==2 {print $4}') / 1048576))
    if ((free_gb < NEEDED_GB)); then
        say "warning: ${free_gb} GB free under $root; the container tests need about ${NEEDED_GB} GB" \
            "(remove unused images: docker image ls; docker image rm ...)"
    else
        say "${free_gb} GB free under $root"
    fi
}

case "${1:-all}" in
engine) start_engine ;;
base)
    engine_up || die "no Docker engine answers; run '$0 engine' first"
    build_base
    ;;
all)
    start_engine
    make_room
    build_base
    ;;
*) die "usage: $0 [engine|base|all]" ;;
esac
