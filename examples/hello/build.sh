#!/bin/sh
# Builds the hello example with Cairn: a static busybox userland plus this
# project's src/ become the input root of one REAPI Action, which runs in
# the sandbox chosen in cairn.yaml (bwrap). The output tree is captured into
# the CAS and staged into _out/, then run.
#
#   examples/hello/build.sh            (after tools/setup.sh)
#   CAIRN=/usr/local/bin/cairn examples/hello/build.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cairn=${CAIRN:-$here/../../build/bin/cairn}
busybox=${BUSYBOX:-/usr/bin/busybox}
[ -x "$cairn" ] || { echo "build.sh: no cairn at $cairn (run tools/setup.sh first)" >&2; exit 1; }
[ -x "$busybox" ] || { echo "build.sh: no static busybox at $busybox (apt-get install busybox-static)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A minimal userland: busybox and its applets, nothing from the host.
mkdir -p "$work/userland/bin"
cp "$busybox" "$work/userland/bin/busybox"
for applet in sh cat chmod echo hostname id ls mkdir; do
  ln -s busybox "$work/userland/bin/$applet"
done

# The sources go to /src of the input root; only /src (the working
# directory) and /tmp are writable inside the sandbox.
mkdir -p "$work/sources"
cp -R "$here/src" "$work/sources/src"

"$cairn" -C "$here" run \
  --root "$work/userland" --root "$work/sources" --cwd src \
  --env PATH=/bin --output install \
  -- sh build.sh 2> "$work/run.log" || { cat "$work/run.log" >&2; exit 1; }
cat "$work/run.log" >&2

install_root=$(sed -n 's/^output-directory: install .*(root \([0-9a-f]*\/[0-9]*\))$/\1/p' "$work/run.log")
[ -n "$install_root" ] || { echo "build.sh: cairn run reported no install/ output" >&2; exit 1; }
rm -rf "$here/_out"
"$cairn" -C "$here" cas stage "$install_root" "$here/_out"
echo "staged $install_root into $here/_out:"
"$here/_out/bin/hello"
