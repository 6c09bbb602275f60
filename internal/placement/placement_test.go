package placement

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func srv(id string, mut ...func(*Server)) Server {
	s := Server{ID: id, Name: id, Cluster: "c1"}
	for _, m := range mut {
		m(&s)
	}
	return s
}

func tags(t ...string) func(*Server) { return func(s *Server) { s.Tags = t } }
func store(limit int64, used uint64) func(*Server) {
	return func(s *Server) { s.MaxStore, s.Store = limit, used }
}
func ha(n int) func(*Server)      { return func(s *Server) { s.HAAssets = n } }
func streams(n int) func(*Server) { return func(s *Server) { s.Streams = n } }

func TestChoose(t *testing.T) {
	five := []Server{srv("a"), srv("b"), srv("c"), srv("d"), srv("e")}
	tests := []struct {
		name    string
		servers []Server
		req     Request
		want    []string // nil: any choice of the right size from the eligible
		elig    []string
		err     string
	}{
		{name: "r3 of five", servers: five, req: Request{Replicas: 3, Cluster: "c1"}, elig: []string{"a", "b", "c", "d", "e"}},
		{name: "other cluster", servers: append(slices.Clone(five), srv("x", func(s *Server) { s.Cluster = "c2" })),
			req: Request{Replicas: 1, Cluster: "c2"}, want: []string{"x"}},
		{name: "too few", servers: five[:2], req: Request{Replicas: 3, Cluster: "c1"}, err: "no suitable peers for placement"},
		{name: "offline", servers: []Server{srv("a"), srv("b", func(s *Server) { s.Offline = true })},
			req: Request{Replicas: 2, Cluster: "c1"}, err: "no suitable peers for placement, peer offline"},
		{name: "tags", servers: []Server{srv("a", tags("ssd")), srv("b", tags("ssd", "az:1")), srv("c")},
			req: Request{Replicas: 2, Cluster: "c1", Tags: []string{"ssd"}}, elig: []string{"a", "b"}},
		{name: "tags missing", servers: []Server{srv("a", tags("ssd")), srv("b")},
			req: Request{Replicas: 2, Cluster: "c1", Tags: []string{"ssd", "fast"}},
			err: "no suitable peers for placement, tags not matched ['fast', 'ssd']"},
		{name: "exclude tag", servers: []Server{srv("a", tags(ExcludeTag)), srv("b")},
			req: Request{Replicas: 2, Cluster: "c1"}, err: "no suitable peers for placement, exclude tag set"},
		{name: "storage", servers: []Server{srv("a", store(100, 90)), srv("b", store(1000, 0)), srv("c", store(1000, 500))},
			req: Request{Replicas: 1, Cluster: "c1", MaxBytes: 50}, want: []string{"b"}},
		{name: "no storage", servers: []Server{srv("a", store(100, 90))},
			req: Request{Replicas: 1, Cluster: "c1", MaxBytes: 50}, err: "no suitable peers for placement, insufficient storage"},
		{name: "fewest streams on a tie", servers: []Server{srv("a", streams(3)), srv("b", streams(1)), srv("c", streams(2))},
			req: Request{Replicas: 1, Cluster: "c1"}, want: []string{"b"}},
		{name: "fewest replicated assets for r>1", servers: []Server{srv("a", ha(5)), srv("b", ha(0)), srv("c", ha(1)), srv("d", ha(9))},
			req: Request{Replicas: 3, Cluster: "c1"}, want: []string{"b", "c", "a"}},
		{name: "unique tag", servers: []Server{srv("a", tags("az:1")), srv("b", tags("az:1")), srv("c", tags("az:2"))},
			req: Request{Replicas: 2, Cluster: "c1", UniqueTag: "az:"}, elig: []string{"a", "b", "c"}},
		{name: "unique tag impossible", servers: []Server{srv("a", tags("az:1")), srv("b", tags("az:1"))},
			req: Request{Replicas: 2, Cluster: "c1", UniqueTag: "az:"}, err: "no suitable peers for placement, server tag not unique"},
		{name: "existing kept", servers: five, req: Request{Replicas: 3, Cluster: "c1", Existing: []string{"d"}}, elig: []string{"a", "b", "c", "d", "e"}},
		{name: "existing enough", servers: five, req: Request{Replicas: 1, Cluster: "c1", Existing: []string{"d", "e"}}, want: []string{"d"}},
		{name: "ignored", servers: five[:3], req: Request{Replicas: 3, Cluster: "c1", Ignore: []string{"a"}}, err: "no suitable peers for placement"},
		{name: "no servers", req: Request{Replicas: 1, Cluster: "c1"}, err: "no suitable peers for placement, jetstream not enabled in cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(20) {
				got, err := Choose(tt.servers, tt.req, rand.New(rand.NewPCG(seed, 1)))
				if tt.err != "" {
					if err == nil || err.Error() != tt.err {
						t.Fatalf("seed %d: %v %v, want error %q", seed, got, err, tt.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				if tt.want != nil && !slices.Equal(got, tt.want) {
					t.Fatalf("seed %d: %v, want %v", seed, got, tt.want)
				}
				if len(got) != tt.req.Replicas {
					t.Fatalf("seed %d: %v, want %d servers", seed, got, tt.req.Replicas)
				}
				seen := map[string]bool{}
				for i, id := range got {
					if seen[id] || (tt.elig != nil && !slices.Contains(tt.elig, id)) {
						t.Fatalf("seed %d: %v", seed, got)
					}
					seen[id] = true
					if i < len(tt.req.Existing) && id != tt.req.Existing[i] {
						t.Fatalf("seed %d: %v does not keep %v first", seed, got, tt.req.Existing)
					}
				}
				if tt.req.UniqueTag != "" {
					vals := map[string]bool{}
					for _, s := range tt.servers {
						if slices.Contains(got, s.ID) {
							v := uniqueValue(s.Tags, tt.req.UniqueTag)
							if vals[v] {
								t.Fatalf("seed %d: %v share %s", seed, got, v)
							}
							vals[v] = true
						}
					}
				}
			}
		})
	}
}

// TestChooseReplays: the same seed gives the same choice.
func TestChooseReplays(t *testing.T) {
	var servers []Server
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		servers = append(servers, srv(id))
	}
	req := Request{Replicas: 3, Cluster: "c1"}
	first, _ := Choose(servers, req, rand.New(rand.NewPCG(7, 7)))
	for range 10 {
		again, _ := Choose(servers, req, rand.New(rand.NewPCG(7, 7)))
		if !slices.Equal(first, again) {
			t.Fatalf("%v then %v", first, again)
		}
	}
}
