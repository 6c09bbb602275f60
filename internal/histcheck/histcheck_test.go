package histcheck

import (
	"strings"
	"testing"
	"time"
)

func TestCheckStream(t *testing.T) {
	tests := []struct {
		name   string
		pubs   []Publish
		stored []Stored
		want   StreamReport
	}{
		{"all kept", []Publish{{"a", true, 1}, {"b", true, 2}}, []Stored{{1, "a"}, {2, "b"}},
			StreamReport{Attempted: 2, Acked: 2}},
		{"unacked but stored is fine", []Publish{{"a", true, 1}, {"b", false, 0}}, []Stored{{1, "a"}, {2, "b"}},
			StreamReport{Attempted: 2, Acked: 1}},
		{"lost", []Publish{{"a", true, 1}, {"b", true, 2}}, []Stored{{1, "a"}},
			StreamReport{Attempted: 2, Acked: 2, Lost: 1}},
		{"duplicated", []Publish{{"a", true, 1}}, []Stored{{1, "a"}, {2, "a"}},
			StreamReport{Attempted: 1, Acked: 1, Duplicated: 1}},
		{"unexpected", []Publish{{"a", true, 1}}, []Stored{{1, "a"}, {2, "z"}},
			StreamReport{Attempted: 1, Acked: 1, Unexpected: 1}},
		{"moved", []Publish{{"a", true, 1}, {"b", true, 2}}, []Stored{{1, "b"}, {2, "a"}},
			StreamReport{Attempted: 2, Acked: 2, Moved: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckStream(tt.pubs, tt.stored)
			got.Details = nil
			if got.String() != tt.want.String() || got.OK() != tt.want.OK() {
				t.Fatalf("%s, want %s", got, tt.want)
			}
		})
	}
}

func TestCheckReplicas(t *testing.T) {
	same := []Stored{{1, "a"}, {2, "b"}}
	if d := CheckReplicas(map[string][]Stored{"s1": same, "s2": same, "s3": same}); d != "" {
		t.Fatal(d)
	}
	if d := CheckReplicas(map[string][]Stored{"s1": same, "s2": same[:1]}); !strings.Contains(d, "has 2 messages") {
		t.Fatal(d)
	}
	if d := CheckReplicas(map[string][]Stored{"s1": same, "s2": {{1, "a"}, {2, "x"}}}); !strings.Contains(d, "message 1") {
		t.Fatal(d)
	}
}

func TestCheckDeliveries(t *testing.T) {
	pubs := []Publish{{"a", true, 1}, {"b", true, 2}, {"c", false, 0}}
	r := CheckDeliveries(pubs, []string{"a", "b", "a"}, []string{"a", "b"})
	if !r.OK() || r.Redelivered != 1 {
		t.Fatalf("%+v", r)
	}
	r = CheckDeliveries(pubs, []string{"a"}, []string{"a", "a"})
	if r.OK() || r.Missing != 1 || r.AckedTwice != 1 {
		t.Fatalf("%+v", r)
	}
}

// at builds an operation over [call, ret] in milliseconds.
func at(client int, call, ret int, kind KVKind, key, value string, expect uint64, known, ok bool, rev uint64, got string) KVOp {
	t0 := time.Unix(0, 0)
	return KVOp{Client: client, Kind: kind, Key: key, Value: value, Expect: expect, Known: known, OK: ok, Rev: rev, Got: got,
		Call: t0.Add(time.Duration(call) * time.Millisecond), Return: t0.Add(time.Duration(ret) * time.Millisecond)}
}

func TestCheckKV(t *testing.T) {
	tests := []struct {
		name string
		ops  []KVOp
		want bool
	}{
		{"sequential", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 3, KVGet, "k", "", 0, true, true, 1, "v1"),
			at(0, 4, 5, KVUpdate, "k", "v2", 1, true, true, 3, ""),
			at(1, 6, 7, KVGet, "k", "", 0, true, true, 3, "v2"),
		}, true},
		{"stale read", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 3, KVPut, "k", "v2", 0, true, true, 2, ""),
			at(1, 4, 5, KVGet, "k", "", 0, true, true, 1, "v1"),
		}, false},
		{"concurrent read may see either", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 10, KVPut, "k", "v2", 0, true, true, 2, ""),
			at(1, 3, 4, KVGet, "k", "", 0, true, true, 1, "v1"),
		}, true},
		{"two CAS winners", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 5, KVUpdate, "k", "a", 1, true, true, 2, ""),
			at(1, 2, 5, KVUpdate, "k", "b", 1, true, true, 3, ""),
		}, false},
		{"CAS loser", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 5, KVUpdate, "k", "a", 1, true, true, 2, ""),
			at(1, 2, 5, KVUpdate, "k", "b", 1, true, false, 0, ""),
		}, true},
		{"unknown write seen later", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 3, KVPut, "k", "v2", 0, false, false, 0, ""),
			at(1, 9, 10, KVGet, "k", "", 0, true, true, 7, "v2"),
			at(1, 11, 12, KVUpdate, "k", "v3", 7, true, true, 8, ""),
		}, true},
		{"unknown write never seen", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 3, KVPut, "k", "v2", 0, false, false, 0, ""),
			at(1, 9, 10, KVGet, "k", "", 0, true, true, 1, "v1"),
		}, true},
		{"lost acknowledged write", []KVOp{
			at(0, 0, 1, KVPut, "k", "v1", 0, true, true, 1, ""),
			at(0, 2, 3, KVPut, "k", "v2", 0, true, true, 2, ""),
			at(1, 9, 10, KVGet, "k", "", 0, true, true, 1, "v1"),
		}, false},
		{"create twice", []KVOp{
			at(0, 0, 1, KVUpdate, "k", "a", 0, true, true, 1, ""),
			at(1, 2, 3, KVUpdate, "k", "b", 0, true, true, 2, ""),
		}, false},
		{"keys apart", []KVOp{
			at(0, 0, 1, KVPut, "x", "1", 0, true, true, 1, ""),
			at(1, 0, 1, KVPut, "y", "1", 0, true, true, 2, ""),
			at(0, 2, 3, KVGet, "y", "", 0, true, true, 2, "1"),
			at(1, 2, 3, KVGet, "z", "", 0, true, false, 0, ""),
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CheckKV(tt.ops, 10*time.Second)
			if r.Unknown || r.Linearizable != tt.want {
				t.Fatalf("%s, want linearizable %v", r, tt.want)
			}
		})
	}
}
