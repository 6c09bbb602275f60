package jetstream

import (
	"bytes"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/stream"
)

// ingestTraced offers a traced message to a stream and records in the
// trace's JetStream entry what the stream did: stored it (under which
// subject), skipped it for lack of interest, or refused it and why. With
// trace-only the stream checks the message and stores nothing.
func ingestTraced(s *stream.Stream, msg *core.Msg) {
	js := msg.Trace.AddJetStream(s.Name())
	hdr := msg.Header
	if !msg.Trace.Only {
		// The stored copy must not start a trace again when a consumer
		// delivers it or someone republishes it: nats-server stores it
		// with the trace headers renamed (Xats-Trace-Dest), and so do we.
		hdr = bytes.Clone(hdr)
		msgtrace.DisableHeaders(hdr)
	}
	out := stream.Trace{Only: msg.Trace.Only}
	s.IngestTraced(string(msg.Subject), string(msg.Reply), hdr, msg.Data, &out)
	if out.Reached {
		js.Subject, js.NoInterest = out.Subject, out.NoInterest
		js.Timestamp = time.Now()
	}
	js.Error = out.Err
}
