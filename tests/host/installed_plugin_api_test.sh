#!/bin/sh
# Proves the installed plugin-api is enough for a third party: install
# Cairn into a fresh prefix, build examples/sandbox-plugin out of tree with
# find_package(CairnPluginApi), and load it with the installed cairn.
#
# usage: installed_plugin_api_test.sh BUILD_DIR EXAMPLE_SOURCE WORK_DIR
set -eu
build=$1
example=$2
work=$3

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -f "$prefix/include/cairn/plugin.h"
test -f "$prefix/lib/cmake/CairnPluginApi/CairnPluginApiConfig.cmake"

cmake -S "$example" -B "$work/example-build" -DCMAKE_PREFIX_PATH="$prefix" \
  > "$work/example-configure.log" 2>&1 || { cat "$work/example-configure.log"; exit 1; }
cmake --build "$work/example-build" -j2 > "$work/example-build.log" 2>&1 \
  || { cat "$work/example-build.log"; exit 1; }

listing=$(env -u CAIRN_PLUGIN_PATH XDG_CONFIG_HOME="$work/config" \
  "$prefix/bin/cairn" --plugin-path "$work/example-build" plugins)
echo "$listing"
echo "$listing" | grep -Eq '^example-host +sandbox +1\.0\.0 +1\.1 +loaded +'"$work"'/example-build/example-host-sandbox\.so$' \
  || { echo "FAIL: the example plugin was not loaded by the installed cairn"; exit 1; }
# The installed host finds the installed plugins without being told where.
for plugin in cas-local bwrap chroot; do
  echo "$listing" | grep -Eq "^$plugin +(sandbox|storage) .* loaded +$prefix/lib/cairn/plugins/cairn-$plugin\.so\$" \
    || { echo "FAIL: the installed $plugin plugin was not found by default"; exit 1; }
done

# And it runs an Action through the host's CAS, like any sandbox.
mkdir -p "$work/root"
echo "hello from the example" > "$work/root/input.txt"
cairn() {
  env -u CAIRN_PLUGIN_PATH XDG_CONFIG_HOME="$work/config" \
    "$prefix/bin/cairn" --cache-dir "$work/cache" --plugin-path "$work/example-build" "$@"
}
cairn --sandbox example-host run --root "$work/root" --env PATH=/usr/bin:/bin \
  --output output.txt -- sh -c 'tr a-z A-Z < input.txt > output.txt' 2> "$work/run.log" \
  || { cat "$work/run.log"; echo "FAIL: cairn run through example-host failed"; exit 1; }
cat "$work/run.log"
digest=$(sed -n 's/^output-file: output\.txt \([0-9a-f]*\/[0-9]*\).*$/\1/p' "$work/run.log")
[ -n "$digest" ] || { echo "FAIL: no output-file line for output.txt"; exit 1; }
[ "$(cairn cas cat "$digest")" = "HELLO FROM THE EXAMPLE" ] \
  || { echo "FAIL: the output blob does not hold the command's output"; exit 1; }
echo "PASS"
