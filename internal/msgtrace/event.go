// Package msgtrace builds message trace events: what the server did with
// one message that asked to be traced (with a Nats-Trace-Dest header).
// The event is JSON in nats-server's MsgTraceEvent shape, so `nats trace`
// and other tools read it unchanged. The package is pure: it reads header
// blocks and builds events; the core server decides when to record what
// and publishes the result.
package msgtrace

import (
	"encoding/json"
	"fmt"
	"time"
)

// Connection kinds, numbered as nats-server numbers them: the numbers are
// on the wire (ingress and egress "kind").
const (
	KindClient    = 0
	KindRouter    = 1
	KindGateway   = 2
	KindSystem    = 3
	KindLeaf      = 4
	KindJetStream = 5
	KindAccount   = 6
)

// Event types, the "type" of each entry of Event.Events.
const (
	TypeIngress        = "in"
	TypeSubjectMapping = "sm"
	TypeStreamExport   = "se"
	TypeServiceImport  = "si"
	TypeJetStream      = "js"
	TypeEgress         = "eg"
)

// Egress errors, worded as nats-server words them (tools show them
// verbatim). nats-server has a few more for leaf nodes and for its
// no-fast-producer-stall option, which Starling does not have.
const (
	ErrNoEcho          = "Not delivered because of no echo"
	ErrSubDeny         = "Not delivered because subscription denies this subject"
	ErrClientClosed    = "Not delivered because client is closed"
	ErrAutoSubExceeded = "Not delivered because auto-unsubscribe exceeded"
	// ErrSlowConsumerDrop is Starling's: it drops a message that would
	// take a subscriber past max_pending, where nats-server queues it
	// first and reports a delivery.
	ErrSlowConsumerDrop = "Not delivered because the client is a slow consumer"
)

// ErrMaxPayload is the ingress error of a message over max_payload.
const ErrMaxPayload = "maximum payload exceeded"

// Event is one server's account of one traced message.
type Event struct {
	Server  ServerInfo `json:"server"`
	Request Request    `json:"request"`
	Hops    int        `json:"hops,omitempty"`
	Events  Events     `json:"events"`
}

// ServerInfo identifies the server that sent an event, as in nats-server's
// system messages.
type ServerInfo struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	ID        string    `json:"id"`
	Cluster   string    `json:"cluster,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Version   string    `json:"ver"`
	Tags      []string  `json:"tags,omitempty"`
	JetStream bool      `json:"jetstream"`
	Flags     uint64    `json:"flags"`
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
}

// FlagJetStream is the capability flag of a server with JetStream.
const FlagJetStream = 1

// Request describes the traced message: its headers (names as the
// publisher wrote them) and its size, headers included.
type Request struct {
	Header  map[string][]string `json:"header,omitempty"`
	MsgSize int                 `json:"msgsize,omitempty"`
}

// Base is what every entry carries.
type Base struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"ts"`
}

func (b *Base) base() *Base { return b }

// Item is one entry of Event.Events: *Ingress, *SubjectMapping,
// *StreamExport, *ServiceImport, *JetStream or *Egress.
type Item interface{ base() *Base }

// Ingress is how the message entered the server; always the first entry.
type Ingress struct {
	Base
	Kind    int    `json:"kind"`
	CID     uint64 `json:"cid"`
	Name    string `json:"name,omitempty"`
	Account string `json:"acc"`
	Subject string `json:"subj"`
	Error   string `json:"error,omitempty"`
}

// SubjectMapping records a subject mapping applied to the message.
type SubjectMapping struct {
	Base
	MappedTo string `json:"to"`
}

// StreamExport records a stream export the message crossed.
type StreamExport struct {
	Base
	Account string `json:"acc"`
	To      string `json:"to"`
}

// ServiceImport records a service import the message crossed.
type ServiceImport struct {
	Base
	Account string `json:"acc"`
	From    string `json:"from"`
	To      string `json:"to"`
}

// JetStream records what a stream did with the message.
type JetStream struct {
	Base
	Stream     string `json:"stream"`
	Subject    string `json:"subject,omitempty"`
	NoInterest bool   `json:"nointerest,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Egress records one delivery, or why it did not happen.
type Egress struct {
	Base
	Kind         int    `json:"kind"`
	CID          uint64 `json:"cid"`
	Name         string `json:"name,omitempty"`
	Hop          string `json:"hop,omitempty"`
	Account      string `json:"acc,omitempty"`
	Subscription string `json:"sub,omitempty"`
	Queue        string `json:"queue,omitempty"`
	Error        string `json:"error,omitempty"`
}

// Events is the ordered list of entries of an event.
type Events []Item

// UnmarshalJSON decodes each entry by its "type".
func (e *Events) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	out := make(Events, 0, len(raw))
	for _, r := range raw {
		var b Base
		if err := json.Unmarshal(r, &b); err != nil {
			return err
		}
		var it Item
		switch b.Type {
		case TypeIngress:
			it = &Ingress{}
		case TypeSubjectMapping:
			it = &SubjectMapping{}
		case TypeStreamExport:
			it = &StreamExport{}
		case TypeServiceImport:
			it = &ServiceImport{}
		case TypeJetStream:
			it = &JetStream{}
		case TypeEgress:
			it = &Egress{}
		default:
			return fmt.Errorf("msgtrace: unknown event type %q", b.Type)
		}
		if err := json.Unmarshal(r, it); err != nil {
			return err
		}
		out = append(out, it)
	}
	*e = out
	return nil
}

// Ingress returns the first entry if it is the ingress, else nil.
func (ev *Event) Ingress() *Ingress {
	if len(ev.Events) == 0 {
		return nil
	}
	in, _ := ev.Events[0].(*Ingress)
	return in
}

// JetStream returns the first JetStream entry, or nil.
func (ev *Event) JetStream() *JetStream {
	for _, it := range ev.Events {
		if js, ok := it.(*JetStream); ok {
			return js
		}
	}
	return nil
}

// Egresses returns the egress entries in order.
func (ev *Event) Egresses() []*Egress {
	var out []*Egress
	for _, it := range ev.Events {
		if eg, ok := it.(*Egress); ok {
			out = append(out, eg)
		}
	}
	return out
}
