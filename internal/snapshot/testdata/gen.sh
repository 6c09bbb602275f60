#!/bin/sh
# Regenerates the nats-server archives the tests read: for each server
# binary, start it on a scratch directory, build the stream with capture,
# back it up with natscli and keep the archive and what the server said
# it held. Usage: testdata/gen.sh NAME /path/to/nats-server [port]
set -eu
name=$1 bin=$2 port=${3:-34712}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
"$bin" -js -sd "$work/sd" -a 127.0.0.1 -p "$port" >"$work/log" 2>&1 &
pid=$!
url=nats://127.0.0.1:$port
i=0
until nats -s "$url" server check connection >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 100 ] && { cat "$work/log"; exit 1; }; sleep 0.1
done
(cd "$here/../../.." && go run ./internal/snapshot/testdata/capture -s "$url" -o "$here/$name.expected.json")
nats -s "$url" backup stream ORDERS "$work/bk" --no-progress >/dev/null
cp "$work/bk/stream.tar.s2" "$here/$name.tar.s2"
cp "$work/bk/backup.json" "$here/$name.backup.json"
