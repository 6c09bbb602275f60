package stream

import (
	"strconv"
	"testing"

	"github.com/starling-mq/starling/internal/filestore"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// discard is a Publisher that drops everything (acks are not measured).
type discard struct{}

func (discard) Publish(string, string, []byte, []byte) (bool, error) { return true, nil }

// BenchmarkIngest measures one publish through the stream's checks and
// its store, without acks: plain, with a fresh message ID each time
// (de-duplication), at a message limit (every store also removes the
// oldest), and plain on a file store in memory (no fsync waits: nothing
// asks for durability).
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		name  string
		id    bool
		limit int64
		file  bool
	}{{"plain", false, -1, false}, {"msgid", true, -1, false}, {"limit", false, 1000, false}, {"file", false, -1, true}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := baseConfig("B")
			cfg.MaxMsgs = bc.limit
			var st store.Store = store.NewMemory()
			if bc.file {
				cfg.Storage = jsapi.FileStorage
				fst, err := filestore.Open(vfs.NewMem(), "/b", filestore.Config{})
				if err != nil {
					b.Fatal(err)
				}
				st = fst
			}
			s, err := New(cfg, Options{Store: st, Out: discard{}})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			payload := make([]byte, 128)
			var buf []byte // a header with a fresh ID each time, as a read buffer would hold it
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				var h []byte
				if bc.id {
					buf = append(strconv.AppendInt(append(buf[:0], "NATS/1.0\r\n"+hdrMsgID+": "...), int64(i), 10), "\r\n\r\n"...)
					h = buf
				}
				s.Ingest("B.x", "", h, payload)
			}
		})
	}
}
