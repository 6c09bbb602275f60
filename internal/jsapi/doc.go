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
// (consumers), errors.go and catalog.go (the error catalog), validate.go
// and update.go (configuration checks), advisory.go (events).
//
// testdata/ holds observed facts: replies captured from nats-server
// 2.9.10 (nats-server-2.9.10.json, with the program that captured them)
// and nats-server's error catalog (errors.json).
package jsapi
