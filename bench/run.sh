#!/usr/bin/env bash
# `pnpm bench`: the load generator pinned to CPU 1 (the servers it starts pin themselves to CPU 0)
# with the V8 flags src/load.ts explains, and every server on Node 22, the oldest Node Parley
# supports (package.json's engines): the machine's node when it is 22, else the npm registry's
# build, fetched once into CI's cache. The generator stays on the machine's node, where its flags
# and its cost per frame were measured (README).
# A `--node=PATH` given here comes first and wins.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=../.ci/node-versions.sh
source ../.ci/node-versions.sh
server_node=$(node_binary 22)
exec taskset -c 1 node --expose-gc --max-semi-space-size=64 --min-semi-space-size=64 \
  --no-incremental-marking --no-memory-reducer --import tsx src/main.ts "$@" --node="$server_node"
