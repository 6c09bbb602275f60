package chaos

import (
	"net"
	"testing"
	"time"
)

// TestRefuser: a dial to the refusing address fails at once, and the port
// is not free for another listener while the refuser holds it.
func TestRefuser(t *testing.T) {
	r, err := newRefuser()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.DialTimeout("tcp", r.Addr(), Timeout)
	if err == nil {
		// The portable fallback accepts and closes.
		c.SetReadDeadline(time.Now().Add(Timeout))
		if n, rerr := c.Read(make([]byte, 1)); n != 0 || rerr == nil {
			t.Fatalf("the refuser's connection carried data: %d, %v", n, rerr)
		}
		c.Close()
		return
	}
	if ln, err := net.Listen("tcp", r.Addr()); err == nil {
		ln.Close()
		t.Fatalf("another listener took the refuser's port %s", r.Addr())
	}
}
