#!/usr/bin/env bash
# Side-by-side benchmark: Starling against Debian's nats-server on loopback.
# Installs nats-server if missing, builds starling, runs bench/compare.
# Extra arguments go to the comparer (e.g. --rounds 7, --scale 0.2, --only fan-out,
# --cluster for three-server clusters of each, --js --cluster for R3 JetStream
# streams on them: --js --cluster --rounds 1 --only r3).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if ! command -v nats-server >/dev/null 2>&1; then
  echo "installing Debian's nats-server..." >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y nats-server >/dev/null || { apt-get update >/dev/null && apt-get install -y nats-server >/dev/null; }
  else
    sudo apt-get install -y nats-server >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y nats-server >/dev/null; }
  fi
fi
# Debian's package may start a system service on 4222; we use our own ports.

mkdir -p bin
go build -o bin/starling ./cmd/starling
go run ./bench/compare --starling bin/starling --nats-server "$(command -v nats-server)" "$@"
