#!/usr/bin/env bash
# What `make test` needs beyond the virtual environment, started before pytest runs:
#   - Debian's Chromium and chromedriver (report.html is opened in a real headless browser);
#   - a Docker engine and the registry-free test base image (scripts/ci_docker_engine.sh).
# As root on Debian it installs and starts them; otherwise it says what is missing, and the tests
# that need it skip with that reason (pytest's summary lists every skip, `-rs`).
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "test_prerequisites: $*" >&2; }

can_install() { [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; }

browser() {
    if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
        return
    fi
    if ! can_install; then
        say "no chromium/chromedriver and cannot apt-get them (not root on Debian): the browser test will skip"
        return
    fi
    say "installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends chromium chromium-driver >/dev/null
}

containers() {
    if ! can_install && ! docker info >/dev/null 2>&1; then
        say "no Docker engine answers and cannot start one (not root on Debian): container tests will skip"
        return
    fi
    bash scripts/ci_docker_engine.sh all
}

browser || exit 1
containers || exit 1
