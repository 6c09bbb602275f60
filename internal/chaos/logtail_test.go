package chaos

import (
	"strings"
	"testing"
)

func TestLogTail(t *testing.T) {
	l := newLogTail(100)
	for _, tc := range []struct {
		write    string
		wantLen  int
		wantTail string
	}{
		{"hello\n", 6, "hello\n"},
		{strings.Repeat("x", 90), 96, "xx"},
		{"0123456789", 50, "6789"}, // over 100: the newer 50 bytes are kept
		{strings.Repeat("y", 500), 50, "yy"},
	} {
		if n, err := l.Write([]byte(tc.write)); n != len(tc.write) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		got := l.String()
		if len(got) != tc.wantLen || !strings.HasSuffix(got, tc.wantTail) {
			t.Fatalf("after writing %d bytes: kept %d bytes ending %q", len(tc.write), len(got), got[max(len(got)-5, 0):])
		}
	}
}
