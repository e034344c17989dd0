#!/usr/bin/env bash
# Installs what Shears needs on a fresh Debian machine, and only what is missing.
# Used by ./shears (test, demo, ...) and by CI (.ci/run). Safe to run again.
#   deploy/setup.sh        what running Shears needs
#   deploy/setup.sh test   and what its tests need besides (docker-compose, to validate deploy/docker-compose.yml)
set -euo pipefail

missing=()
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if ! javac -version 2>&1 | grep -qE 'javac (1[7-9]|[2-9][0-9])'; then
  missing+=(openjdk-17-jdk-headless)
fi
# Fashion-MNIST in IDX format, for the trainer and the data tests that read the full set.
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
# A real Prometheus for the demo's metrics and the dashboards' tests; promtool checks the rules.
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || missing+=(prometheus)
if [ "${1:-}" = test ]; then
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "shears: installing ${missing[*]} (Debian packages)" >&2
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "shears: need root to install ${missing[*]}: run 'apt-get install -y ${missing[*]}' as root, then try again" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"
