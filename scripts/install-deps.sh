#!/usr/bin/env bash
# Installs what mxbridge needs to build and test, from Debian's packages only.
# Runs as root or with sudo; safe to run again (only missing packages are installed).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi

BUILD_PACKAGES=(
    build-essential cmake pkg-config
    libcpprest-dev libssl-dev          # homeserver client (cpprestsdk needs OpenSSL linked)
    libboost-dev libboost-system-dev   # Beast receiver, Asio event loops
    nlohmann-json3-dev libsimdjson-dev # JSON: general use, and the ack path's parser
    libsqlitecpp-dev libsqlite3-dev    # journal and stores
    libyaml-cpp-dev                    # config and registration files
    libexpat1-dev                      # XMPP stream parser (streaming, namespaces, DTDs refused)
    libpurple-dev                      # the libpurple bridge's host (optional: without it the
                                       # rest builds, see bridges/purple/CMakeLists.txt)
)
TEST_PACKAGES=(
    doctest-dev                        # unit tests
    inspircd                           # a real IRC server for the IRC bridge's tests
    atheme-services                    # NickServ accounts and SASL behind that ircd (the IRC
                                       # login test links its own to it, never the service)
    prosody                            # a real XMPP server for the XMPP bridge's tests; they
                                       # start their own on free ports, never the service
    python3-slixmpp                    # XMPP users in those tests (Debian's /usr/bin/python3)
    sqlite3                            # inspecting databases in tests and by hand
    clang libclang-rt-dev              # libFuzzer targets (fuzz_libfuzzer): clang only
                                       # recommends the runtime that holds libFuzzer, ASan, UBSan
)

packages=("${BUILD_PACKAGES[@]}")
list_only=false
for arg in "$@"; do
    case "$arg" in
        --with-tests) packages+=("${TEST_PACKAGES[@]}") ;;
        --list) list_only=true ;;  # print the package names, install nothing
        *) echo "usage: $0 [--with-tests] [--list]" >&2; exit 2 ;;
    esac
done
if $list_only; then
    echo "${packages[@]}"
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
