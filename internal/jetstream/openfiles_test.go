package jetstream

import "testing"

func TestMaxOpenFiles(t *testing.T) {
	tests := []struct {
		configured int
		limit      uint64
		want       int
		bad        bool
	}{
		{0, 0, 256, false},        // limit unknown: the filestore default
		{0, 1024, 256, false},     // a quarter
		{0, 100, 64, false},       // at least 64
		{0, 1 << 20, 4096, false}, // at most 4096
		{0, 65536, 4096, false},   // the usual systemd limit
		{500, 0, 500, false},      // as configured
		{500, 1024, 500, false},   // under half the limit
		{600, 1024, 0, true},      // more than half the limit
		{15, 1024, 0, true},       // below the minimum
		{100000, 1 << 20, 100000, false},
	}
	for _, tt := range tests {
		got, err := maxOpenFiles(tt.configured, tt.limit)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("maxOpenFiles(%d, %d) = %d, %v; want %d (error %v)", tt.configured, tt.limit, got, err, tt.want, tt.bad)
		}
	}
}
