#!/bin/sh
# The executables and plugins find their libraries only where they were
# installed (or built): never in the directory a user starts them from. A
# library planted there (here, a file that is not ELF at all, named as one
# of the libraries cairn, cairn-server and the plugins load) must not be
# tried: with the current directory on the search path the loader fails on
# it and the program does not start.
# Usage: library_search_test.sh CAIRN CAIRN_SERVER
set -eu
cairn=$(readlink -f "$1")
server=$(readlink -f "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-library-search-XXXXXX")
trap 'rm -rf "$work"' EXIT

for program in "$cairn" "$server"; do
  for library in $(ldd "$program" | awk '/=>/ {print $1}'); do
    echo "not a library" > "$work/$library"
  done
done
for plugin in "$(dirname "$cairn")"/../lib/cairn/plugins/*.so; do
  for library in $(ldd "$plugin" | awk '/=>/ {print $1}'); do
    echo "not a library" > "$work/$library"
  done
done

cd "$work"
"$cairn" --version > /dev/null || { echo "FAIL: cairn did not start in $work"; exit 1; }
"$server" --version > /dev/null || { echo "FAIL: cairn-server did not start in $work"; exit 1; }
# `cairn plugins` probes every plugin, each loading its own libraries.
if ! "$cairn" --config /dev/null plugins > "$work/plugins.txt" 2>&1; then
  echo "FAIL: cairn plugins failed in $work:"; cat "$work/plugins.txt"; exit 1
fi
if grep -q disabled "$work/plugins.txt"; then
  echo "FAIL: a plugin was disabled in $work:"; cat "$work/plugins.txt"; exit 1
fi
echo "ok: nothing was loaded from the current directory"
