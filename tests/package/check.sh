#!/usr/bin/env bash
# Installs the just-built eddy into a temporary prefix, then builds a tiny out-of-tree
# consumer against it twice -- with find_package(eddy) and with pkg-config -- and runs both.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/package/consumer" -B "$work/cmake-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
c++ -O1 -o "$work/pc-consumer" "$source_dir/tests/package/consumer/main.cpp" \
  $(pkg-config --cflags --libs --static eddy)
"$work/pc-consumer"
