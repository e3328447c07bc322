#!/usr/bin/env bash
# Install what building and testing pgcdc needs on Debian 12, if it is missing.
# Used by `make check` and `make demo`; safe to run again (does nothing then).
set -euo pipefail
pkgs=(build-essential pkg-config libpq-dev libssl-dev libjansson-dev libcmocka-dev
      librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libzstd-dev libsnappy-dev
      libmicrohttpd-dev postgresql-15 valgrind jq kcat curl nodejs npm
      clang libclang-rt-14-dev openssl bc)
missing=()
for p in "${pkgs[@]}"; do
  # a nodejs build that bundles npm (nodesource) conflicts with Debian's npm package
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# DuckDB (npm @duckdb/node-api) reads the Parquet files back in the integration tests
# (tests/tools/duckdb-query.mjs).  Installed into tests/tools/node_modules (git-ignored);
# nothing to do, and no network needed, once it is there.
duckdb_pkg=@duckdb/node-api@1.5.6-r.1
tools_dir=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$tools_dir/node_modules/@duckdb/node-api/package.json" ]; then
  echo "deps: installing $duckdb_pkg into tests/tools/node_modules"
  npm install --prefix "$tools_dir" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "$duckdb_pkg" ||
    { echo "deps: npm install $duckdb_pkg failed (the Parquet tests need it)" >&2; exit 1; }
fi
