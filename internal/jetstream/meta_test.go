package jetstream

import (
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

func TestMetaRoundTripAndDamage(t *testing.T) {
	m := &streamMeta{Config: jsapi.StreamConfig{Name: "S", Subjects: []string{"s.>"}, MaxMsgs: 5}, Created: time.Unix(1700000000, 0).UTC()}
	b, err := encodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMeta(b)
	if err != nil || got.Config.Name != "S" || got.Config.MaxMsgs != 5 || !got.Created.Equal(m.Created) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Any single damaged byte is detected, and a truncated file too.
	for i := range b {
		bad := append([]byte(nil), b...)
		bad[i] ^= 0x20
		if _, err := decodeMeta(bad); err == nil {
			t.Fatalf("byte %d flipped: accepted", i)
		}
	}
	for _, n := range []int{0, 5, 9, len(b) - 1} {
		if _, err := decodeMeta(b[:n]); err == nil {
			t.Fatalf("truncated to %d: accepted", n)
		}
	}
}
