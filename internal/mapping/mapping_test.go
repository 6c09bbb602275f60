package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/subject"
)

// at is a draw that Map scales to percent p (0..99).
func at(p uint32) func() uint32 {
	return func() uint32 { return uint32((uint64(p)<<32 + 99) / 100) }
}

// noDraw fails the test if Map draws: plain mappings must not.
func noDraw(t *testing.T) func() uint32 {
	return func() uint32 { t.Helper(); t.Fatal("unexpected draw"); return 0 }
}

func one(src, dst string) Entry {
	return Entry{Source: src, Destinations: []Destination{{Subject: dst, Weight: 100}}}
}

func TestMapPlain(t *testing.T) {
	m, err := New("", []Entry{
		one("orders", "shop.orders"),
		one("orders.*.*", "shop.{{wildcard(2)}}.$1"),
		one("p.*", "p.{{partition(3,1)}}.$1"),
		one("logs.>", "archive.>"),
		one("a.*", "first.$1"),
		one("a.b", "second"), // after a.*: never reached for a.b
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, out string
		ok      bool
	}{
		{"orders", "shop.orders", true},
		{"orders.eu.new", "shop.new.eu", true},
		{"orders.eu", "orders.eu", false},
		{"p.a", "p.1.a", true},
		{"logs.x.y", "archive.x.y", true},
		{"logs", "logs", false},
		{"a.b", "first.b", true},
		{"other", "other", false},
	}
	for _, tt := range tests {
		got, ok := m.Map(tt.in, noDraw(t))
		if got != tt.out || ok != tt.ok {
			t.Errorf("Map(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.out, tt.ok)
		}
	}
}

func TestMapWeighted(t *testing.T) {
	tests := []struct {
		name  string
		dests []Destination
		draws map[uint32]string // draw percent -> result
	}{
		{"80/20", []Destination{{Subject: "a", Weight: 80}, {Subject: "b", Weight: 20}},
			// ascending weight: b takes 0..19, a 20..99
			map[uint32]string{0: "b", 19: "b", 20: "a", 99: "a"}},
		{"rest to source", []Destination{{Subject: "a", Weight: 30}},
			// a 0..29, the source 30..99
			map[uint32]string{0: "a", 29: "a", 30: "src", 99: "src"}},
		{"listed source means loss", []Destination{{Subject: "a", Weight: 30}, {Subject: "src", Weight: 10}},
			// src 0..9, a 10..39, nothing 40..99
			map[uint32]string{0: "src", 10: "a", 39: "a", 40: "", 99: ""}},
		{"equal weights keep their order", []Destination{{Subject: "x", Weight: 50}, {Subject: "y", Weight: 50}},
			map[uint32]string{0: "x", 49: "x", 50: "y"}},
		{"zero weight never chosen", []Destination{{Subject: "z", Weight: 0}, {Subject: "a", Weight: 100}},
			map[uint32]string{0: "a", 99: "a"}},
		{"no destinations", nil, map[uint32]string{0: "src", 99: "src"}},
	}
	for _, tt := range tests {
		m, err := New("", []Entry{{Source: "src", Destinations: tt.dests}})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for p, want := range tt.draws {
			if got, ok := m.Map("src", at(p)); got != want || !ok {
				t.Errorf("%s: draw %d = %q, %v; want %q", tt.name, p, got, ok, want)
			}
		}
	}
}

func TestMapCluster(t *testing.T) {
	entries := []Entry{{Source: "s.*", Destinations: []Destination{
		{Subject: "all.$1", Weight: 100},
		{Subject: "east.$1", Weight: 100, Cluster: "east"},
		{Subject: "west.$1", Weight: 40, Cluster: "west"},
	}}}
	tests := []struct{ cluster, draw0, draw99 string }{
		{"", "all.x", "all.x"},
		{"north", "all.x", "all.x"}, // no entries of its own: the unscoped ones
		{"east", "east.x", "east.x"},
		{"west", "west.x", "s.x"}, // the rest of west's weights: the source
	}
	for _, tt := range tests {
		m, err := New(tt.cluster, entries)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := m.Map("s.x", at(0)); got != tt.draw0 {
			t.Errorf("cluster %q draw 0: %q; want %q", tt.cluster, got, tt.draw0)
		}
		if got, _ := m.Map("s.x", at(99)); got != tt.draw99 {
			t.Errorf("cluster %q draw 99: %q; want %q", tt.cluster, got, tt.draw99)
		}
	}
}

func TestMapSplitToNothing(t *testing.T) {
	m, err := New("", []Entry{one("a.*", "b.{{split(1,-)}}")})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := m.Map("a.--", noDraw(t)); got != "" || !ok {
		t.Fatalf("Map(a.--) = %q, %v; want dropped", got, ok)
	}
}

func TestNewErrors(t *testing.T) {
	d := func(s string, w int, c string) Destination { return Destination{Subject: s, Weight: w, Cluster: c} }
	tests := []struct {
		name    string
		entries []Entry
		want    string
		is      error
	}{
		{"bad source", []Entry{one("a..b", "c")}, "invalid subject", subject.ErrBadSubject},
		{"empty source", []Entry{one("", "c")}, "invalid subject", subject.ErrBadSubject},
		{"duplicate source", []Entry{one("a", "b"), one("a", "c")}, "duplicate mapping source", ErrDuplicateSource},
		{"duplicate destination", []Entry{{Source: "a", Destinations: []Destination{d("b", 10, ""), d("b", 10, "east")}}},
			`duplicate entry for "b"`, nil},
		{"weight over 100", []Entry{{Source: "a", Destinations: []Destination{d("b", 101, "")}}},
			"individual weights need to be <= 100", ErrWeight},
		{"negative weight", []Entry{{Source: "a", Destinations: []Destination{d("b", -1, "")}}},
			"invalid weight", ErrNegativeWeight},
		{"total over 100", []Entry{{Source: "a", Destinations: []Destination{d("b", 60, ""), d("c", 41, "")}}},
			"total weight needs to be <= 100", ErrTotalWeight},
		{"total per cluster", []Entry{{Source: "a", Destinations: []Destination{d("b", 60, "x"), d("c", 60, "y"), d("e", 50, "x")}}},
			"total weight needs to be <= 100", ErrTotalWeight},
		{"bad transform", []Entry{one("a.*", "b.$2")}, "wildcard index out of range", subject.ErrMappingDestinationIndexOutOfRange},
		{"left in a mapping", []Entry{one("a.*", "b.{{left(1,1)}}")}, "unknown function", subject.ErrUnknownMappingDestinationFunction},
		{"fwc to literal", []Entry{one("a.>", "b")}, "invalid subject", subject.ErrBadSubject},
	}
	for _, tt := range tests {
		_, err := New("x", tt.entries)
		var me *Error
		if err == nil || !errors.As(err, &me) || !strings.Contains(err.Error(), tt.want) || tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: New = %v; want %q", tt.name, err, tt.want)
		}
	}
	// Scoped weights add up per cluster: 60 + 60 in two clusters is fine.
	if _, err := New("x", []Entry{{Source: "a", Destinations: []Destination{d("b", 60, "x"), d("c", 60, "y")}}}); err != nil {
		t.Errorf("per-cluster weights: %v", err)
	}
}

func TestNilMappings(t *testing.T) {
	var m *Mappings
	if got, ok := m.Map("a", noDraw(t)); got != "a" || ok || m.Len() != 0 {
		t.Fatalf("nil Map = %q, %v", got, ok)
	}
}
