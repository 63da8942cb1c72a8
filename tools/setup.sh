#!/usr/bin/env bash
# Installs what Cairn needs from Debian 12's packages (only what is
# missing), then configures and builds it in ./build with two jobs.
#
#   tools/setup.sh            # install + build
#   BUILD_DIR=/tmp/b tools/setup.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}

packages=(
  cmake g++ make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-dev libboost-filesystem-dev
  libyaml-cpp-dev libssl-dev libspdlog-dev libarchive-dev libzstd-dev
  libgtest-dev libgmock-dev
  bubblewrap busybox-static openssl clang-format
  clang libfuzzer-14-dev  # tools/fuzz.sh and its ctest test (label fuzz)
  buildstream tmux  # the oracle the builds are compared with; terminal tests
  bazel-bootstrap  # a real REAPI client run against cairn-server
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y "${missing[@]}"
fi

cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2
