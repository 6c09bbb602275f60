package histcheck

import (
	"fmt"
	"sort"
)

// Publish is one publish attempt as its publisher saw it.
type Publish struct {
	ID    string // unique per attempted message (the payload or Nats-Msg-Id)
	Acked bool   // a PubAck came back
	Seq   uint64 // the ack's sequence, when acked
}

// Stored is one message a stream holds.
type Stored struct {
	Seq uint64
	ID  string
}

// maxDetails bounds the examples a report keeps.
const maxDetails = 20

// StreamReport counts what a stream kept of what was published.
type StreamReport struct {
	Attempted, Acked int
	// Lost: acked, not stored. Duplicated: stored more than once.
	// Unexpected: stored, never attempted. Moved: acked at one sequence,
	// stored at another. Unacked but stored is allowed (a publish whose
	// ack was lost may still have been stored).
	Lost, Duplicated, Unexpected, Moved int
	Details                             []string
}

// OK reports whether nothing acknowledged was lost, doubled or moved and
// nothing unknown appeared.
func (r StreamReport) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Unexpected == 0 && r.Moved == 0
}

func (r StreamReport) String() string {
	return fmt.Sprintf("attempted %d, acked %d, lost %d, duplicated %d, unexpected %d, moved %d",
		r.Attempted, r.Acked, r.Lost, r.Duplicated, r.Unexpected, r.Moved)
}

func (r *StreamReport) note(format string, a ...any) {
	if len(r.Details) < maxDetails {
		r.Details = append(r.Details, fmt.Sprintf(format, a...))
	}
}

// CheckStream compares the publishes with what the stream holds.
func CheckStream(published []Publish, stored []Stored) StreamReport {
	var r StreamReport
	attempted := make(map[string]Publish, len(published))
	for _, p := range published {
		attempted[p.ID] = p
		r.Attempted++
		if p.Acked {
			r.Acked++
		}
	}
	at := make(map[string][]uint64, len(stored))
	for _, s := range stored {
		at[s.ID] = append(at[s.ID], s.Seq)
	}
	ids := make([]string, 0, len(at))
	for id := range at {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		seqs := at[id]
		if len(seqs) > 1 {
			r.Duplicated += len(seqs) - 1
			r.note("%s stored %d times (sequences %v)", id, len(seqs), seqs)
		}
		if _, ok := attempted[id]; !ok {
			r.Unexpected++
			r.note("%s stored at %d but never published", id, seqs[0])
		}
	}
	for _, p := range published {
		if !p.Acked {
			continue
		}
		seqs, ok := at[p.ID]
		switch {
		case !ok:
			r.Lost++
			r.note("%s acked at %d, not stored", p.ID, p.Seq)
		case p.Seq != 0 && seqs[0] != p.Seq:
			r.Moved++
			r.note("%s acked at %d, stored at %d", p.ID, p.Seq, seqs[0])
		}
	}
	return r
}

// CheckReplicas reports the first difference between the replicas'
// contents, "" when they hold the same messages at the same sequences.
func CheckReplicas(replicas map[string][]Stored) string {
	names := make([]string, 0, len(replicas))
	for n := range replicas {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 2 {
		return ""
	}
	ref := replicas[names[0]]
	for _, n := range names[1:] {
		other := replicas[n]
		for i := 0; i < max(len(ref), len(other)); i++ {
			switch {
			case i >= len(ref):
				return fmt.Sprintf("%s has %d messages, %s %d", names[0], len(ref), n, len(other))
			case i >= len(other):
				return fmt.Sprintf("%s has %d messages, %s %d", names[0], len(ref), n, len(other))
			case ref[i] != other[i]:
				return fmt.Sprintf("message %d: %s has %v, %s has %v", i, names[0], ref[i], n, other[i])
			}
		}
	}
	return ""
}

// DeliveryReport counts what a consumer delivered of the acked publishes.
type DeliveryReport struct {
	Missing     int // acked publishes never delivered
	AckedTwice  int // messages whose AckSync was confirmed more than once
	Redelivered int // deliveries beyond the first (allowed: at least once)
	Details     []string
}

// OK reports at-least-once delivery with no confirmed ack repeated.
func (r DeliveryReport) OK() bool { return r.Missing == 0 && r.AckedTwice == 0 }

// CheckDeliveries checks at-least-once delivery of every acked publish,
// and that no message whose AckSync was confirmed came back to be
// confirmed again.
func CheckDeliveries(published []Publish, delivered []string, ackConfirmed []string) DeliveryReport {
	var r DeliveryReport
	seen := map[string]int{}
	for _, id := range delivered {
		seen[id]++
		if seen[id] > 1 {
			r.Redelivered++
		}
	}
	for _, p := range published {
		if p.Acked && seen[p.ID] == 0 {
			r.Missing++
			if len(r.Details) < maxDetails {
				r.Details = append(r.Details, fmt.Sprintf("%s acked at %d, never delivered", p.ID, p.Seq))
			}
		}
	}
	confirmed := map[string]int{}
	for _, id := range ackConfirmed {
		confirmed[id]++
		if confirmed[id] == 2 {
			r.AckedTwice++
			if len(r.Details) < maxDetails {
				r.Details = append(r.Details, fmt.Sprintf("%s: AckSync confirmed twice", id))
			}
		}
	}
	return r
}
