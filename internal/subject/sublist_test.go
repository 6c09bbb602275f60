package subject

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

type sub struct {
	id          int
	subj, queue string
}

func plainIDs(r *Result[*sub]) []int {
	var ids []int
	for _, s := range r.Plain {
		ids = append(ids, s.id)
	}
	sort.Ints(ids)
	return ids
}

func queueIDs(r *Result[*sub]) map[string][]int {
	out := map[string][]int{}
	for _, g := range r.Queues {
		for _, s := range g {
			out[s.queue] = append(out[s.queue], s.id)
		}
	}
	for _, ids := range out {
		sort.Ints(ids)
	}
	return out
}

func TestSublistMatch(t *testing.T) {
	subs := []*sub{
		{1, "foo", ""},
		{2, "foo.bar", ""},
		{3, "foo.*", ""},
		{4, "foo.>", ""},
		{5, ">", ""},
		{6, "*.bar", ""},
		{7, "foo.bar", "q1"},
		{8, "foo.*", "q1"},
		{9, "foo.bar", "q2"},
		{10, "foo.bar.baz", ""},
	}
	sl := NewSublist[*sub]()
	for _, s := range subs {
		if err := sl.Insert(s.subj, s.queue, s); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		subj   string
		plain  []int
		queues map[string][]int
	}{
		{"foo", []int{1, 5}, map[string][]int{}},
		{"foo.bar", []int{2, 3, 4, 5, 6}, map[string][]int{"q1": {7, 8}, "q2": {9}}},
		{"foo.baz", []int{3, 4, 5}, map[string][]int{"q1": {8}}},
		{"foo.bar.baz", []int{4, 5, 10}, map[string][]int{}},
		{"bar", []int{5}, map[string][]int{}},
		{"baz.bar", []int{5, 6}, map[string][]int{}},
		{"foo..bar", nil, map[string][]int{}},
		{"", nil, map[string][]int{}},
		{"foo bar", nil, map[string][]int{}},
	}
	for round := 0; round < 2; round++ { // the second round is served from the cache
		for _, tt := range tests {
			r := sl.Match(tt.subj)
			if got := plainIDs(r); !slices.Equal(got, tt.plain) {
				t.Errorf("round %d Match(%q) plain = %v, want %v", round, tt.subj, got, tt.plain)
			}
			if got := queueIDs(r); fmt.Sprint(got) != fmt.Sprint(tt.queues) {
				t.Errorf("round %d Match(%q) queues = %v, want %v", round, tt.subj, got, tt.queues)
			}
		}
	}
	if st := sl.Stats(); st.Subscriptions != len(subs) || st.Matches != uint64(2*len(tests)) {
		t.Errorf("stats = %+v", st)
	}
}

func TestSublistInsertInvalid(t *testing.T) {
	sl := NewSublist[*sub]()
	for _, s := range []string{"", "foo..bar", "foo.>.bar", "a b"} {
		if err := sl.Insert(s, "", &sub{}); err != ErrInvalidSubject {
			t.Errorf("Insert(%q) = %v, want ErrInvalidSubject", s, err)
		}
	}
}

func TestSublistRemovePrunes(t *testing.T) {
	sl := NewSublist[*sub]()
	a := &sub{1, "a.b.c", ""}
	b := &sub{2, "a.*.c", "q"}
	c := &sub{3, "a.>", ""}
	for _, s := range []*sub{a, b, c} {
		if err := sl.Insert(s.subj, s.queue, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sl.Insert(a.subj, a.queue, a); err != nil || sl.Count() != 3 {
		t.Fatalf("duplicate insert changed count to %d (err %v)", sl.Count(), err)
	}
	if sl.Remove("a.b.c", "q", a) {
		t.Error("removed a plain sub through a queue name")
	}
	for _, s := range []*sub{a, b, c} {
		if !sl.Remove(s.subj, s.queue, s) {
			t.Errorf("Remove(%v) = false", s)
		}
		if sl.Remove(s.subj, s.queue, s) {
			t.Errorf("second Remove(%v) = true", s)
		}
	}
	if !sl.root.empty() || sl.Count() != 0 {
		t.Errorf("trie not pruned: %+v count %d", sl.root, sl.Count())
	}
	if !sl.Match("a.b.c").Empty() {
		t.Error("match after removing everything")
	}
}

func TestSublistCacheInvalidation(t *testing.T) {
	sl := NewSublist[*sub]()
	s1 := &sub{1, "foo.bar", ""}
	if err := sl.Insert(s1.subj, "", s1); err != nil {
		t.Fatal(err)
	}
	if got := plainIDs(sl.Match("foo.bar")); !slices.Equal(got, []int{1}) {
		t.Fatalf("got %v", got)
	}
	gen := sl.GenID()
	s2 := &sub{2, "foo.*", ""}
	if err := sl.Insert(s2.subj, "", s2); err != nil {
		t.Fatal(err)
	}
	if sl.GenID() == gen {
		t.Error("GenID unchanged after Insert")
	}
	if got := plainIDs(sl.Match("foo.bar")); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("after wildcard insert got %v", got)
	}
	sl.Remove(s1.subj, "", s1)
	if got := plainIDs(sl.Match("foo.bar")); !slices.Equal(got, []int{2}) {
		t.Fatalf("after literal remove got %v", got)
	}
}

func TestSublistCacheBounded(t *testing.T) {
	sl := NewSublistCache[*sub](16)
	if err := sl.Insert(">", "", &sub{id: 1}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		sl.Match(fmt.Sprintf("s.%d", i))
	}
	if n := sl.Stats().Cached; n > 16 {
		t.Errorf("cache holds %d entries, bound is 16", n)
	}
}

// TestSublistAgainstBruteForce checks the trie and its cache against Matches
// over a random workload of inserts, removes and matches.
func TestSublistAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	toks := []string{"a", "b", "c", "*", ">"}
	randSubj := func(literal bool) string {
		n := 1 + rng.IntN(4)
		parts := make([]string, n)
		for i := range parts {
			pool := toks
			if literal {
				pool = toks[:3]
			}
			parts[i] = pool[rng.IntN(len(pool))]
		}
		for i, p := range parts { // ">" only last
			if p == ">" && i != n-1 {
				parts[i] = "*"
			}
		}
		return strings.Join(parts, ".")
	}
	sl := NewSublistCache[*sub](32)
	live := map[*sub]bool{}
	queues := []string{"", "", "q1", "q2"}
	for step := 0; step < 5000; step++ {
		switch rng.IntN(3) {
		case 0:
			s := &sub{id: step, subj: randSubj(false), queue: queues[rng.IntN(len(queues))]}
			if err := sl.Insert(s.subj, s.queue, s); err != nil {
				t.Fatal(err)
			}
			live[s] = true
		case 1:
			for s := range live {
				if !sl.Remove(s.subj, s.queue, s) {
					t.Fatalf("Remove(%+v) = false", s)
				}
				delete(live, s)
				break
			}
		default:
			lit := randSubj(true)
			r := sl.Match(lit)
			var want []int
			wantQ := map[string][]int{}
			for s := range live {
				if !Matches(s.subj, lit) {
					continue
				}
				if s.queue == "" {
					want = append(want, s.id)
				} else {
					wantQ[s.queue] = append(wantQ[s.queue], s.id)
				}
			}
			sort.Ints(want)
			for _, ids := range wantQ {
				sort.Ints(ids)
			}
			if got := plainIDs(r); !slices.Equal(got, want) {
				t.Fatalf("step %d Match(%q) plain = %v, want %v", step, lit, got, want)
			}
			if got := queueIDs(r); fmt.Sprint(got) != fmt.Sprint(wantQ) {
				t.Fatalf("step %d Match(%q) queues = %v, want %v", step, lit, got, wantQ)
			}
		}
	}
	if sl.Count() != len(live) {
		t.Errorf("Count = %d, want %d", sl.Count(), len(live))
	}
}

func BenchmarkSublistMatchCached(b *testing.B) {
	sl := NewSublist[*sub]()
	for i := 0; i < 1000; i++ {
		s := &sub{id: i, subj: fmt.Sprintf("svc.%d.req", i)}
		_ = sl.Insert(s.subj, "", s)
	}
	_ = sl.Insert("svc.*.req", "", &sub{id: -1})
	_ = sl.Insert("svc.>", "", &sub{id: -2})
	sl.Match("svc.500.req")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sl.Match("svc.500.req").Fanout() != 3 {
			b.Fatal("bad match")
		}
	}
}

func BenchmarkSublistMatchUncached(b *testing.B) {
	sl := NewSublistCache[*sub](0)
	for i := 0; i < 1000; i++ {
		s := &sub{id: i, subj: fmt.Sprintf("svc.%d.req", i)}
		_ = sl.Insert(s.subj, "", s)
	}
	_ = sl.Insert("svc.*.req", "q", &sub{id: -1})
	_ = sl.Insert("svc.>", "", &sub{id: -2})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sl.Match("svc.500.req").Fanout() != 3 {
			b.Fatal("bad match")
		}
	}
}

func BenchmarkSublistInsertRemove(b *testing.B) {
	sl := NewSublist[*sub]()
	for i := 0; i < 1000; i++ {
		s := &sub{id: i, subj: fmt.Sprintf("svc.%d.req", i)}
		_ = sl.Insert(s.subj, "", s)
		sl.Match(s.subj)
	}
	s := &sub{id: -1, subj: "_INBOX.abcdef.1"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = sl.Insert(s.subj, "", s)
		sl.Remove(s.subj, "", s)
	}
}

func BenchmarkSublistMatchParallel(b *testing.B) {
	sl := NewSublist[*sub]()
	_ = sl.Insert("foo.bar", "", &sub{id: 1})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sl.Match("foo.bar")
		}
	})
}

func FuzzSublistMatch(f *testing.F) {
	f.Add("foo.*", "foo.bar")
	f.Add("foo.>", "foo.bar.baz")
	f.Add(">", "a")
	f.Add("a.b", "a..b")
	f.Fuzz(func(t *testing.T, pattern, lit string) {
		sl := NewSublistCache[*sub](4)
		s := &sub{id: 1}
		if err := sl.Insert(pattern, "", s); err != nil {
			if Valid(pattern) {
				t.Fatalf("Insert(%q) failed on a valid subject: %v", pattern, err)
			}
			return
		}
		got := !sl.Match(lit).Empty()
		want := ValidLiteral(lit) && Matches(pattern, lit)
		if ValidLiteral(lit) && got != want {
			t.Fatalf("Match(%q) under %q = %v, Matches says %v", lit, pattern, got, want)
		}
		if !sl.Remove(pattern, "", s) || !sl.root.empty() {
			t.Fatalf("Remove(%q) did not empty the trie", pattern)
		}
	})
}

// TestSublistCacheAdmission: once the cache is full, a subject matched
// once is not cached and does not evict anything; one matched again is.
func TestSublistCacheAdmission(t *testing.T) {
	sl := NewSublistCache[*sub](16)
	if err := sl.Insert(">", "", &sub{id: 1}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 16; i++ {
		sl.Match(fmt.Sprintf("hot.%d", i))
	}
	for i := 0; i < 1000; i++ {
		if got := plainIDs(sl.Match(fmt.Sprintf("once.%d", i))); !slices.Equal(got, []int{1}) {
			t.Fatalf("once.%d matched %v", i, got)
		}
	}
	before := sl.hits.Load()
	for i := 0; i < 16; i++ {
		sl.Match(fmt.Sprintf("hot.%d", i))
	}
	if hits := sl.hits.Load() - before; hits != 16 {
		t.Errorf("%d of 16 cached results hit after 1,000 one-off subjects", hits)
	}
	sl.Match("again")
	sl.Match("again")
	before = sl.hits.Load()
	sl.Match("again")
	if sl.hits.Load() == before {
		t.Error("a subject matched twice on a full cache was not cached")
	}
	if n := sl.Stats().Cached; n > 16 {
		t.Errorf("cache holds %d entries, bound is 16", n)
	}
}

// BenchmarkSublistMatchUnique matches a subject never seen before each
// time (JetStream acks), against a full cache.
func BenchmarkSublistMatchUnique(b *testing.B) {
	sl := NewSublist[*sub]()
	_ = sl.Insert("$JS.ACK.S.C.>", "", &sub{id: 1})
	_ = sl.Insert("_INBOX.>", "", &sub{id: 2})
	subjs := make([]string, 1<<16)
	for i := range subjs {
		subjs[i] = fmt.Sprintf("$JS.ACK.S.C.1.%d.%d.1764806400000000000.0", i, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sl.Match(subjs[i%len(subjs)]).Fanout() != 1 {
			b.Fatal("bad match")
		}
	}
}
