package proto

import "testing"

func TestHeaderValue(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: abc\r\nX-Multi: 1\r\nX-Multi: 2\r\nnats-expected-stream:  S1 \r\n\r\n")
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"Nats-Msg-Id", "abc", true},
		{"nats-msg-id", "abc", true},
		{"X-Multi", "1", true},
		{"Nats-Expected-Stream", "S1", true},
		{"Missing", "", false},
	}
	for _, tt := range tests {
		if got, ok := HeaderValue(hdr, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("%s: %q %v", tt.key, got, ok)
		}
	}
	for _, bad := range []string{"", "junk", "NATS/1.0", "NATS/1.0\r\nNoColon\r\n\r\n"} {
		if v, ok := HeaderValue([]byte(bad), "NoColon"); ok {
			t.Errorf("%q: found %q", bad, v)
		}
	}
}

func TestHeaderStatusAndBuilder(t *testing.T) {
	h := NewHeader(404, "Message Not Found").Add("Nats-Stream", "S").Bytes()
	if string(h) != "NATS/1.0 404 Message Not Found\r\nNats-Stream: S\r\n\r\n" {
		t.Fatalf("built %q", h)
	}
	if HeaderStatus(h) != 404 || HeaderStatus([]byte("NATS/1.0\r\n\r\n")) != 0 || HeaderStatus([]byte("NATS/1.0 503\r\n\r\n")) != 503 {
		t.Error("HeaderStatus")
	}
	if v, _ := HeaderValue(h, "nats-stream"); v != "S" {
		t.Error("value from built header")
	}
}

func TestRemoveHeader(t *testing.T) {
	h := []byte("NATS/1.0\r\nNats-TTL: 5s\r\nA: b\r\n\r\n")
	if got := string(RemoveHeader(h, "nats-ttl")); got != "NATS/1.0\r\nA: b\r\n\r\n" {
		t.Errorf("got %q", got)
	}
	if got := RemoveHeader([]byte("NATS/1.0\r\nNats-TTL: 5s\r\n\r\n"), "Nats-TTL"); got != nil {
		t.Errorf("only header removed: %q", got)
	}
}

func FuzzHeaderValue(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nA: b\r\n\r\n"), "A")
	f.Add([]byte("NATS/1.0 503\r\n\r\n"), "x")
	f.Fuzz(func(t *testing.T, hdr []byte, key string) {
		HeaderValue(hdr, key)
		HeaderStatus(hdr)
		RemoveHeader(hdr, key)
	})
}
