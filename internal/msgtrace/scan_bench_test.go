package msgtrace

import "testing"

// BenchmarkScanNoTrace is the cost tracing adds to a message with
// headers that is not traced.
func BenchmarkScanNoTrace(b *testing.B) {
	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: 7c9bfa2e-0d1f-4a57-b5a3\r\nX-Application: orders\r\n\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(hdr)))
	for range b.N {
		if Scan(hdr) != 0 {
			b.Fatal("found")
		}
	}
}
