package core

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
)

// An account's traffic is its open connections' counters plus what its
// closed connections had: closing one loses nothing.
func TestAccountStatsKeepClosedTotals(t *testing.T) {
	s, err := New(Options{
		Host: "127.0.0.1", Port: RandomPort,
		Users: []*auth.User{{Username: "a", Password: "a", Account: "A"}, {Username: "b", Password: "b", Account: "B"}},
		Accounts: []options.AccountOptions{
			{Name: "A", Exports: []options.Export{{Stream: "ev.>"}}},
			{Name: "B", Imports: []options.Import{{Stream: &options.ImportSource{Account: "A", Subject: "ev.>"}, Prefix: "from"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())

	dial := func(user string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil { // INFO
			t.Fatal(err)
		}
		fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"user\":%q,\"pass\":%q}\r\nPING\r\n", user, user)
		expectLine(t, r, "PONG")
		return c, r
	}
	a, ar := dial("a")
	fmt.Fprintf(a, "PUB ev.1 5\r\nhello\r\nPUB ev.2 3\r\nabc\r\nPING\r\n")
	expectLine(t, ar, "PONG")

	st, ok := s.AccountStatsOf("A")
	if !ok || st.Conns != 1 || st.InMsgs != 2 || st.InBytes != 8 {
		t.Fatalf("A while open: %+v", st)
	}
	a.Close()
	waitUntil(t, "A's connection to close", func() bool { st, _ := s.AccountStatsOf("A"); return st.Conns == 0 })
	st, _ = s.AccountStatsOf("A")
	if st.InMsgs != 2 || st.InBytes != 8 {
		t.Errorf("A after close: %+v, want its 2 messages, 8 bytes kept", st)
	}

	b, _ := dial("b")
	defer b.Close()
	all := s.AllAccountStats()
	names := []string{}
	for _, st := range all {
		names = append(names, fmt.Sprintf("%s:%d", st.Name, st.Conns))
	}
	if got := strings.Join(names, ","); got != "$G:0,$SYS:0,A:0,B:1" {
		t.Errorf("all accounts %s", got)
	}
	if got := s.AccountImports("B"); len(got) != 1 || got[0].Local != "from.ev.>" || got[0].Service {
		t.Errorf("B's imports %+v", got)
	}
	if got := s.AccountExports("A"); len(got) != 1 || got[0].Subject != "ev.>" || got[0].Service {
		t.Errorf("A's exports %+v", got)
	}
	if subs := s.AccountSubscriptions("A"); len(subs) != 1 || subs[0].Subject != "ev.>" || subs[0].Account != "A" {
		t.Errorf("A's subscriptions %+v, want B's import", subs)
	}
}

func expectLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(line) != want {
		t.Fatalf("got %q, want %s", line, want)
	}
}
