#!/usr/bin/env bash
# Installs the Debian packages the project needs, then configures and builds
# it into build/ (RelWithDebInfo). Safe to run again: apt is not touched when
# every package is already installed, and the build is incremental.
#
#   bash scripts/setup.sh              install what is missing, then build
#   bash scripts/setup.sh --deps-only  install what is missing, no build
#
# Runs as root as it is (CI), and through sudo otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# civetweb (a 27 KiB binary, no service) is there because the CMake package
# of libcivetweb-dev refuses to load without /usr/bin/civetweb.
readonly PACKAGES=(
  g++ cmake make pkg-config clang-format
  thrift-compiler libthrift-dev
  libboost-dev libboost-program-options-dev
  libfmt-dev libspdlog-dev libcivetweb-dev civetweb zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-prometheus-client python3-thrift
  procps
)

# Prints the packages of PACKAGES that are not installed, one a line.
missing_packages() {
  local package status
  for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
      echo "$package"
    fi
  done
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    echo "setup: every package is installed"
    return
  fi
  echo "setup: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
    "${PACKAGES[@]}"
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build -j"$(nproc)"
}

main() {
  install_packages
  if [[ "${1:-}" == "--deps-only" ]]; then
    return
  fi
  build
}

main "$@"
