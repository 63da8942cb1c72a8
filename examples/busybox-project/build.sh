#!/bin/sh
# Builds the busybox example project with Cairn and checks out its target:
# prepares the busybox base (prepare.sh), runs `cairn build hello.bst` in the
# sandbox cairn.yaml names (bwrap), checks the artifact and its runtime
# dependencies out into _checkout/ (integration commands run), and prints
# the report the build wrote. Run it again: everything is cached.
#
#   examples/busybox-project/build.sh          (after tools/setup.sh)
#   CAIRN=/usr/local/bin/cairn examples/busybox-project/build.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cairn=${CAIRN:-$here/../../build/bin/cairn}
[ -x "$cairn" ] || { echo "build.sh: no cairn at $cairn (run tools/setup.sh first)" >&2; exit 1; }

"$here/prepare.sh"
"$cairn" -C "$here" build hello.bst
rm -rf "$here/_checkout"
"$cairn" -C "$here" artifact checkout hello.bst --directory "$here/_checkout"
echo "build.sh: checked out into $here/_checkout; its report:"
cat "$here/_checkout/usr/share/report/hello.txt"
