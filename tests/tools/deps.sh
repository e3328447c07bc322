#!/usr/bin/env bash
# Install what building and testing pgcdc needs on Debian 12, if it is missing.
# Used by `make check` and `make demo`; safe to run again (does nothing then).
set -euo pipefail
pkgs=(build-essential pkg-config libpq-dev libssl-dev libjansson-dev libcmocka-dev
      librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libzstd-dev libsnappy-dev
      libmicrohttpd-dev postgresql-15 valgrind jq kcat curl nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
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
  # installing postgresql-15 must not leave a system cluster running on 5432
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
