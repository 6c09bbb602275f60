// Package jsapi holds the JetStream API's wire types ($JS.API.…): the JSON
// that requests and responses carry, shaped exactly as nats-server
// marshals them so the official clients decode them unchanged; the
// client-visible error catalog; and the pure validation of stream
// configurations. It does no I/O and knows nothing of the server.
//
// Files: enums.go (policies as JSON strings), subjects.go (API subjects,
// response types, headers, limits), types_stream.go (stream
// configuration, info and state), types_api.go (requests and responses of
// the stream API, publish acks, account info), types_consumer.go
// (consumers), errors.go and catalog.go (the error catalog), validate.go,
// validate_sources.go and update.go (configuration checks, following
// current nats-server), overlap.go (subject overlap), advisory.go (events).
//
// testdata/ holds observed facts: replies of nats-server 2.9.10 and 2.11.8
// to the same requests (nats-server-<version>.json, recorded by the
// program in testdata/capture) and nats-server's error catalog
// (errors.json, from gen-errors.sh). The tests decode every captured
// reply into these types and encode it back to the same JSON, check the
// catalog against errors.json, and replay the captured stream creates and
// updates through the checks.
package jsapi
