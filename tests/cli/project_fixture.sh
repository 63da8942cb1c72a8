# Sourced by the build process tests: a copy of the busybox example project
# in a private directory with a private cache, and helpers.
#   . project_fixture.sh CAIRN_BINARY
set -eu
cairn=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
source_project=$here/../../examples/busybox-project
command -v bwrap >/dev/null || { echo "SKIPPED: bwrap is not installed"; exit 77; }
[ -x /bin/busybox ] || { echo "SKIPPED: /bin/busybox (busybox-static) is not installed"; exit 77; }
work=$(mktemp -d /tmp/cairn-cli-test-XXXXXX)
cleanup() {
  [ -n "${tmux_socket:-}" ] && tmux -L "$tmux_socket" kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cp -r "$source_project" "$work/project"
rm -rf "$work/project/_checkout" "$work/project/files/base"
"$work/project/prepare.sh" >/dev/null
export XDG_CACHE_HOME=$work/cache XDG_CONFIG_HOME=$work/config
project=$work/project
fail() { echo "FAIL: $*" >&2; exit 1; }
