package jscluster

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

func TestConsumerEntryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch []byte
	}{
		{"C", []byte{1, 2, 3}},
		{"durable-with-a-long-name", nil},
		{string(bytes.Repeat([]byte{'x'}, 300)), []byte("batch")},
	} {
		name, batch, err := decodeConsumerEntry(encodeConsumerEntry(tc.name, tc.batch))
		if err != nil || name != tc.name || !bytes.Equal(batch, tc.batch) {
			t.Fatalf("%q: got %q %v %v", tc.name, name, batch, err)
		}
	}
}

func TestConsumerEntryRefusesStreamEntries(t *testing.T) {
	for _, b := range [][]byte{nil, {1, 0}, {2}, {consumerEntry}, {consumerEntry, 0}, {consumerEntry, 5, 'a'}} {
		if _, _, err := decodeConsumerEntry(b); err == nil {
			t.Fatalf("%v decoded", b)
		}
	}
}

func FuzzConsumerEntry(f *testing.F) {
	f.Add(encodeConsumerEntry("C", []byte{1}))
	f.Add([]byte{consumerEntry, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, batch, err := decodeConsumerEntry(b)
		if err != nil {
			return
		}
		again := encodeConsumerEntry(name, batch)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x as %x", b, again)
		}
	})
}

// refusing is a Consumers hook that refuses the batch "bad".
type refusing struct{}

var errRefused = errors.New("refused batch")

func (refusing) ApplyConsumer(_ string, batch []byte) error {
	if string(batch) == "bad" {
		return errRefused
	}
	return nil
}

// A batch the state machine refuses once committed is reported to its
// proposer as refused, not as done.
func TestProposeConsumerHearsRefusal(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "S", Subjects: []string{"s"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1}
	rs := startStreamGroupHooks(t, 1, cfg, true, StreamHooks{Consumers: refusing{}}, "a", "b", "c")
	for _, tc := range []struct {
		batch string
		want  error
	}{{"good", nil}, {"bad", errRefused}} {
		got := make(chan error, 1)
		rs.lead().ProposeConsumer("C", []byte(tc.batch), func(err error) { got <- err })
		select {
		case err := <-got:
			if !errors.Is(err, tc.want) {
				t.Fatalf("%s: proposer heard %v, want %v", tc.batch, err, tc.want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no outcome", tc.batch)
		}
	}
}
