package core

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/interest"
)

// eventLog collects interest events from a watcher.
type eventLog struct {
	mu  sync.Mutex
	evs []string
}

func (l *eventLog) add(ev interest.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := ev.Subject
	if ev.Queue != "" {
		s += ":" + ev.Queue
	}
	if ev.Removed {
		l.evs = append(l.evs, "-"+s)
	} else {
		l.evs = append(l.evs, fmt.Sprintf("+%s/%d", s, ev.Weight))
	}
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.evs, " ")
}

// TestAccountInterestEvents: every way a subscription enters or leaves the
// server (SUB, UNSUB, UNSUB with a max reached, a closed connection, an
// in-process client) goes through the account, which reports first and
// last interest per subject and every queue weight change.
func TestAccountInterestEvents(t *testing.T) {
	s := startTestServer(t)
	var log eventLog
	ic := s.NewInternalClient("test")
	defer ic.Close()
	if _, err := ic.Subscribe("before", "", func(*Msg) {}); err != nil {
		t.Fatal(err)
	}
	cancel := s.GlobalAccount().WatchInterest(log.add)
	defer cancel()
	if got := log.String(); got != "+before/1" {
		t.Fatalf("snapshot %q", got)
	}

	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil { // INFO
		t.Fatal(err)
	}
	send := func(lines ...string) {
		t.Helper()
		fmt.Fprint(conn, strings.Join(lines, "\r\n")+"\r\nPING\r\n")
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if l == "PONG\r\n" {
				return
			}
		}
	}
	send(`CONNECT {"verbose":false}`, "SUB a 1", "SUB a 2", "SUB a q 3", "SUB a q 4")
	send("UNSUB 1", "UNSUB 3", "UNSUB 4 1", "PUB a 1", "x")
	sub, err := ic.Subscribe("in", "", func(*Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	sub.Unsubscribe()
	send("SUB b 5")
	conn.Close()
	// The close removes a and b in no particular order.
	want := "+before/1 +a/1 +a:q/1 +a:q/2 +a:q/1 -a:q +in/1 -in +b/1 -a -b"
	alt := "+before/1 +a/1 +a:q/1 +a:q/2 +a:q/1 -a:q +in/1 -in +b/1 -b -a"
	deadline := time.Now().Add(10 * time.Second)
	for got := log.String(); got != want && got != alt && time.Now().Before(deadline); got = log.String() {
		time.Sleep(10 * time.Millisecond)
	}
	if got := log.String(); got != want && got != alt {
		t.Fatalf("events\n got  %s\n want %s", got, want)
	}
}
