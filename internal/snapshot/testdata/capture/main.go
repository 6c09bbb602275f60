// capture builds the same stream on a running nats-server, records what
// the server says it holds (expected.json) and leaves the stream for
// natscli to back up; gen.sh drives it. The archives it produces are the
// golden inputs of the snapshot package's tests.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Expected is what the restored stream must hold.
type Expected struct {
	Server    string                    `json:"server"`
	State     jetstream.StreamState     `json:"state"`
	Msgs      []Msg                     `json:"msgs"`
	Consumers []*jetstream.ConsumerInfo `json:"consumers"`
}

// Msg is one stored message.
type Msg struct {
	Seq     uint64              `json:"seq"`
	Subject string              `json:"subject"`
	Header  map[string][]string `json:"header,omitempty"`
	Data    string              `json:"data"`
	Time    time.Time           `json:"time"`
}

func main() {
	url := flag.String("s", nats.DefaultURL, "server")
	out := flag.String("o", "expected.json", "output file")
	flag.Parse()
	if err := run(*url, *out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(url, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:              "ORDERS",
		Subjects:          []string{"orders.*"},
		Storage:           jetstream.FileStorage,
		MaxMsgsPerSubject: 4,
		MaxMsgs:           18,
	})
	if err != nil {
		return err
	}
	// 40 messages on 5 subjects: the per-subject limit removes older
	// ones from the middle, max_msgs from the head.
	for i := 1; i <= 40; i++ {
		m := nats.NewMsg("orders." + strconv.Itoa(i%5))
		m.Data = []byte(fmt.Sprintf("order %d %s", i, string(make([]byte, i%7))))
		if i%3 == 0 {
			m.Header.Set("X-Order", strconv.Itoa(i))
		}
		if i%11 == 0 {
			m.Data = nil
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			return err
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	first := info.State.FirstSeq
	// One message removed plainly, one erased, and the last one, so the
	// last sequence holds no message.
	if err := s.DeleteMsg(ctx, first+3); err != nil {
		return err
	}
	if err := s.SecureDeleteMsg(ctx, first+5); err != nil {
		return err
	}
	if err := s.DeleteMsg(ctx, info.State.LastSeq); err != nil {
		return err
	}
	if err := consumers(ctx, s); err != nil {
		return err
	}
	return record(ctx, nc, s, out)
}

// consumers makes a pull consumer with acks, pending and a redelivery,
// and a push consumer that acknowledges nothing.
func consumers(ctx context.Context, s jetstream.Stream) error {
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "PULL", AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Hour})
	if err != nil {
		return err
	}
	batch, err := c.Fetch(6, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return err
	}
	i := 0
	for m := range batch.Messages() {
		i++
		switch i {
		case 1, 2, 4:
			err = m.DoubleAck(ctx)
		case 5:
			err = m.Nak()
		}
		if err != nil {
			return err
		}
	}
	// The NAK'ed message comes again: now delivered twice, left pending.
	batch, err = c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return err
	}
	for range batch.Messages() {
	}
	_, err = s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "PUSH", DeliverSubject: "deliver.push", AckPolicy: jetstream.AckNonePolicy,
		FilterSubject: "orders.2", DeliverPolicy: jetstream.DeliverLastPolicy,
	})
	return err
}

func record(ctx context.Context, nc *nats.Conn, s jetstream.Stream, out string) error {
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	exp := Expected{Server: nc.ConnectedServerVersion(), State: info.State}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		exp.Msgs = append(exp.Msgs, Msg{Seq: m.Sequence, Subject: m.Subject, Header: m.Header, Data: string(m.Data), Time: m.Time})
	}
	for _, name := range []string{"PULL", "PUSH"} {
		// Raw request: the jetstream package has no handle on push consumers.
		resp, err := nc.Request("$JS.API.CONSUMER.INFO.ORDERS."+name, nil, 5*time.Second)
		if err != nil {
			return err
		}
		var ci jetstream.ConsumerInfo
		if err := json.Unmarshal(resp.Data, &ci); err != nil {
			return err
		}
		exp.Consumers = append(exp.Consumers, &ci)
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
