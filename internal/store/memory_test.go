package store_test

import (
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() }, store.MemMsgSize)
}

func BenchmarkMemoryAppend(b *testing.B) {
	s := store.NewMemory()
	data := make([]byte, 128)
	b.ReportAllocs()
	for i := range b.N {
		if _, err := s.Append("bench.subject", nil, data, int64(i), 0); err != nil {
			b.Fatal(err)
		}
	}
}
