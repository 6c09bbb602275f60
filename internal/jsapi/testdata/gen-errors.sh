#!/bin/sh
# Regenerates errors.json, the golden copy of nats-server's error catalog
# that catalog_test.go checks the Go table against. It keeps the four
# fields a client sees (or that name the entry) and sorts by err_code.
#
#   ./gen-errors.sh /path/to/nats-server/repo [commit]
set -eu
repo=$1
rev=${2:-HEAD}
commit=$(git -C "$repo" rev-parse "$rev")
git -C "$repo" show "$rev:server/errors.json" |
	jq --arg commit "$commit" '{
		source: ("nats-io/nats-server server/errors.json at " + $commit),
		errors: (sort_by(.error_code) | map({constant, code, error_code, description}))
	}' >errors.json
