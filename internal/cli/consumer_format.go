package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Pure text for the consumer actions, kept apart so tests can pin it down
// without a server.

// consumerInfoText is `consumer info`'s report, in the nats CLI's order;
// settings left at their zero value are not shown.
func consumerInfoText(ci *jetstream.ConsumerInfo) string {
	var b strings.Builder
	cfg := ci.Config
	fmt.Fprintf(&b, "Information for consumer %s on stream %s, created %s\n\n", ci.Name, ci.Stream, ci.Created.UTC().Format(time.RFC3339))
	c := newSection(&b, "Configuration")
	if cfg.Durable != "" {
		c.row("Durable name", cfg.Durable)
	}
	if cfg.Description != "" {
		c.row("Description", cfg.Description)
	}
	if cfg.DeliverSubject != "" {
		c.row("Mode", "push to "+cfg.DeliverSubject)
	} else {
		c.row("Mode", "pull")
	}
	if f := consumerFilter(cfg); f != "" {
		c.row("Filter", f)
	}
	c.row("Deliver policy", deliverText(cfg))
	c.row("Ack policy", enumWord(cfg.AckPolicy))
	if cfg.AckPolicy != jetstream.AckNonePolicy {
		c.row("Ack wait", cfg.AckWait.String())
	}
	if len(cfg.BackOff) > 0 {
		c.row("Backoff", durationsText(cfg.BackOff))
	}
	c.row("Replay policy", enumWord(cfg.ReplayPolicy))
	c.row("Max deliveries", limitText(int64(cfg.MaxDeliver), commaInt))
	c.row("Max ack pending", limitText(int64(cfg.MaxAckPending), commaInt))
	if cfg.DeliverSubject == "" {
		c.row("Max waiting pulls", limitText(int64(cfg.MaxWaiting), commaInt))
	}
	if cfg.DeliverGroup != "" {
		c.row("Deliver group", cfg.DeliverGroup)
	}
	if cfg.IdleHeartbeat > 0 {
		c.row("Idle heartbeat", cfg.IdleHeartbeat.String())
	}
	if cfg.FlowControl {
		c.row("Flow control", "true")
	}
	if cfg.HeadersOnly {
		c.row("Headers only", "true")
	}
	if cfg.InactiveThreshold > 0 {
		c.row("Inactive threshold", cfg.InactiveThreshold.String())
	}
	c.end()
	b.WriteString("\n")
	consumerStateText(&b, ci)
	return b.String()
}

func consumerStateText(b *strings.Builder, ci *jetstream.ConsumerInfo) {
	s := newSection(b, "State")
	s.row("Last delivered", seqPair(ci.Delivered))
	s.row("Ack floor", seqPair(ci.AckFloor))
	s.row("Pending", commaInt(int64(ci.NumPending)))
	s.row("Awaiting ack", commaInt(int64(ci.NumAckPending)))
	s.row("Redelivered", commaInt(int64(ci.NumRedelivered)))
	if ci.Config.DeliverSubject == "" {
		s.row("Waiting pulls", commaInt(int64(ci.NumWaiting)))
	} else {
		s.row("Push bound", strconv.FormatBool(ci.PushBound))
	}
	s.end()
}

// seqPair is "consumer sequence 3, stream sequence 7", or "none".
func seqPair(si jetstream.SequenceInfo) string {
	if si.Consumer == 0 && si.Stream == 0 {
		return "none"
	}
	s := fmt.Sprintf("consumer sequence %s, stream sequence %s", commaInt(int64(si.Consumer)), commaInt(int64(si.Stream)))
	if si.Last != nil && si.Last.Unix() > 0 {
		s += " @ " + si.Last.UTC().Format(time.RFC3339)
	}
	return s
}

// deliverText is the deliver policy with its start sequence or time.
func deliverText(cfg jetstream.ConsumerConfig) string {
	w := enumWord(cfg.DeliverPolicy)
	switch {
	case cfg.DeliverPolicy == jetstream.DeliverByStartSequencePolicy:
		w += " " + commaInt(int64(cfg.OptStartSeq))
	case cfg.DeliverPolicy == jetstream.DeliverByStartTimePolicy && cfg.OptStartTime != nil:
		w += " " + cfg.OptStartTime.UTC().Format(time.RFC3339Nano)
	}
	return w
}

func consumerFilter(cfg jetstream.ConsumerConfig) string {
	if cfg.FilterSubject != "" {
		return cfg.FilterSubject
	}
	return strings.Join(cfg.FilterSubjects, ", ")
}

func durationsText(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

// consumerTable is `consumer ls`'s table, in the order given.
func consumerTable(infos []*jetstream.ConsumerInfo) string {
	if len(infos) == 0 {
		return "No consumers defined\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILTER\tACK\tPENDING\tACK PENDING\tREDELIVERED\tWAITING")
	for _, ci := range infos {
		filter := consumerFilter(ci.Config)
		if filter == "" {
			filter = "-"
		}
		waiting := commaInt(int64(ci.NumWaiting))
		if ci.Config.DeliverSubject != "" {
			waiting = "push"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ci.Name, filter, enumWord(ci.Config.AckPolicy),
			commaInt(int64(ci.NumPending)), commaInt(int64(ci.NumAckPending)), commaInt(int64(ci.NumRedelivered)), waiting)
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	return trimLines(b.String())
}

// consumedText shows a delivered message as storedMsgText shows a stored
// one: stream sequence, subject, the time it was stored, headers, body.
func consumedText(m jetstream.Msg) string {
	raw := &jetstream.RawStreamMsg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()}
	if md, err := m.Metadata(); err == nil {
		raw.Sequence, raw.Time = md.Sequence.Stream, md.Timestamp
	}
	return storedMsgText(raw)
}
