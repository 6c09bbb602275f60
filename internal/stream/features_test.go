package stream

import (
	"testing"
)

// TestRefusedPublishHeaders covers the headers of features Starling lacks
// and malformed expected sequences, with current nats-server's codes and
// texts; none of the refused messages is stored.
func TestRefusedPublishHeaders(t *testing.T) {
	s, rec, _ := newTestStream(t, baseConfig("S"))
	for range 3 {
		s.Ingest("S.a", "", nil, []byte("x"))
	}
	cases := []struct {
		name string
		hdr  []byte
		code uint16
		desc string
	}{
		{"batch", hdr("Nats-Batch-Id", "b1", "Nats-Batch-Sequence", "1"), 10174, "atomic publish is disabled"},
		{"counter", hdr("Nats-Incr", "+5"), 10168, "message counters is disabled"},
		{"counter negative", hdr("Nats-Incr", "-2"), 10168, "message counters is disabled"},
		{"counter not a number", hdr("Nats-Incr", "five"), 10171, "message counter increment is invalid"},
		{"schedule", hdr("Nats-Schedule", "@every 1s"), 10188, "message schedules is disabled"},
		{"schedule invalid", hdr("Nats-Schedule", "nonsense"), 10188, "message schedules is disabled"},
		{"schedule bad zone", hdr("Nats-Schedule-Time-Zone", "Nowhere/Never"), 10188, "message schedules is disabled"},
		{"schedule purge", hdr("Nats-Schedule-Next", "purge", "Nats-Scheduler", "S.sched"), 10188, "message schedules is disabled"},
		{"schedule next other", hdr("Nats-Schedule-Next", "soon", "Nats-Scheduler", "S.sched"), 10212, "message schedules invalid scheduler"},
		{"scheduler alone", hdr("Nats-Scheduler", "S.sched"), 10212, "message schedules invalid scheduler"},
		{"scheduler own subject", hdr("Nats-Schedule-Next", "purge", "Nats-Scheduler", "S.a"), 10212, "message schedules invalid scheduler"},
		{"last seq letters", hdr("Nats-Expected-Last-Sequence", "abc"), 10071, "wrong last sequence: 3"},
		{"last seq negative", hdr("Nats-Expected-Last-Sequence", "-1"), 10071, "wrong last sequence: 3"},
		{"last seq 20 digits", hdr("Nats-Expected-Last-Sequence", "99999999999999999999"), 10071, "wrong last sequence: 3"},
		{"last seq max", hdr("Nats-Expected-Last-Sequence", "18446744073709551615"), 10071, "wrong last sequence: 3"},
		{"last seq plus", hdr("Nats-Expected-Last-Sequence", "+3"), 10071, "wrong last sequence: 3"},
		{"subject seq letters", hdr("Nats-Expected-Last-Subject-Sequence", "abc"), 10071, "wrong last sequence: 3"},
		{"subject seq negative", hdr("Nats-Expected-Last-Subject-Sequence", "-1"), 10071, "wrong last sequence: 3"},
		{"subject seq 20 digits", hdr("Nats-Expected-Last-Subject-Sequence", "99999999999999999999"), 10071, "wrong last sequence: 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Ingest("S.a", "e", tc.hdr, nil)
			a := lastAck(t, rec, "e")
			if a.Error == nil || a.Error.ErrCode != tc.code || a.Error.Description != tc.desc || a.Stream != "S" {
				t.Fatalf("got %+v %+v, want %d %q", a, a.Error, tc.code, tc.desc)
			}
		})
	}
	if st := s.Store().State(); st.Msgs != 3 {
		t.Fatalf("refused messages were stored: %+v", st)
	}
	// Empty values count as absent, as in nats-server.
	s.Ingest("S.a", "ok", hdr("Nats-Expected-Last-Sequence", "", "Nats-Batch-Id", "", "Nats-Incr", "", "Nats-Schedule", ""), nil)
	if a := lastAck(t, rec, "ok"); a.Error != nil || a.Seq != 4 {
		t.Fatalf("empty headers: %+v %+v", a, a.Error)
	}
}
