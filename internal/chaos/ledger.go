package chaos

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Payload is a message body that names its publisher and sequence
// number, padded with dots to at least size bytes.
func Payload(pub string, seq uint64, size int) []byte {
	b := fmt.Appendf(nil, "%s:%d:", pub, seq)
	if pad := size - len(b); pad > 0 {
		b = append(b, bytes.Repeat([]byte("."), pad)...)
	}
	return b
}

// ParsePayload reads back what Payload wrote.
func ParsePayload(b []byte) (pub string, seq uint64, err error) {
	pub, rest, ok := strings.Cut(string(b), ":")
	if !ok || pub == "" {
		return "", 0, fmt.Errorf("payload %.40q names no publisher", b)
	}
	num, _, ok := strings.Cut(rest, ":")
	if !ok {
		return "", 0, fmt.Errorf("payload %.40q has no sequence", b)
	}
	seq, err = strconv.ParseUint(num, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("payload %.40q: %w", b, err)
	}
	return pub, seq, nil
}

// Ledger is what one subscriber received, by publisher. It holds the
// properties that survive any fault in core NATS: no message twice, and
// each publisher's messages in the order they were published (sequence
// numbers rising). Losses are for the caller to judge: they are allowed
// where a link was down. Safe for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	got      map[string]map[uint64]struct{}
	last     map[string]uint64
	problems []string
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{got: map[string]map[uint64]struct{}{}, last: map[string]uint64{}}
}

// Record notes message seq of pub (seq > 0).
func (l *Ledger) Record(pub string, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.got[pub]
	if seen == nil {
		seen = map[uint64]struct{}{}
		l.got[pub] = seen
	}
	if _, dup := seen[seq]; dup {
		l.note("%s:%d received twice", pub, seq)
		return
	}
	seen[seq] = struct{}{}
	if last := l.last[pub]; seq < last {
		l.note("%s:%d received after %s:%d", pub, seq, pub, last)
	} else {
		l.last[pub] = seq
	}
}

// RecordPayload notes a message written by Payload.
func (l *Ledger) RecordPayload(b []byte) {
	pub, seq, err := ParsePayload(b)
	if err != nil {
		l.mu.Lock()
		l.note("%v", err)
		l.mu.Unlock()
		return
	}
	l.Record(pub, seq)
}

// note keeps a problem; a broken run keeps the first hundred. l.mu is held.
func (l *Ledger) note(format string, args ...any) {
	if len(l.problems) < 100 {
		l.problems = append(l.problems, fmt.Sprintf(format, args...))
	}
}

// Count is how many messages of pub with sequence in [from, to] arrived.
func (l *Ledger) Count(pub string, from, to uint64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for seq := range l.got[pub] {
		if seq >= from && seq <= to {
			n++
		}
	}
	return n
}

// Missing lists, at most max of them, the sequences of pub in [from, to]
// that have not arrived.
func (l *Ledger) Missing(pub string, from, to uint64, max int) []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []uint64
	for seq := from; seq <= to && len(out) < max; seq++ {
		if _, ok := l.got[pub][seq]; !ok {
			out = append(out, seq)
		}
	}
	return out
}

// Err reports duplicates and messages out of order, nil when there are
// none.
func (l *Ledger) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%d problems: %s", len(l.problems), strings.Join(slices.Clone(l.problems), "; "))
}
