package raftnode

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
)

// lockedKV lets a test read a state machine the host's loop writes.
type lockedKV struct {
	mu sync.Mutex
	kv *kvSM
}

func (l *lockedKV) Apply(ents []Entry) ([]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kv.Apply(ents)
}

func (l *lockedKV) Snapshot() ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kv.Snapshot()
}

func (l *lockedKV) Restore(data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kv.Restore(data)
}

func (l *lockedKV) get(k string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kv.KV[k]
}

// hostNet delivers a host's messages to the others in process.
type hostNet struct {
	mu    sync.Mutex
	hosts map[uint64]*Host
}

type hostTransport struct{ n *hostNet }

func (t hostTransport) Send(envs []Envelope) {
	t.n.mu.Lock()
	defer t.n.mu.Unlock()
	for _, e := range envs {
		if h := t.n.hosts[e.Msg.GetTo()]; h != nil {
			h.Step([]Envelope{e})
		}
	}
}

// eventually polls cond, ticking every host's clock between polls.
func eventually(t *testing.T, what string, tickers []*ManualTicker, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 100000 && time.Now().Before(deadline); i++ {
		if cond() {
			return
		}
		for _, tk := range tickers {
			tk.Tick()
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s: not reached", what)
}

// putCommitted proposes op through h, again until it commits.
func putCommitted(t *testing.T, h *Host, g uint64, tickers []*ManualTicker, op kvOp) {
	t.Helper()
	eventually(t, "a committed put of "+op.K+"="+op.V, tickers, func() bool {
		p, err := h.Propose(context.Background(), g, mustJSON(op))
		if err != nil {
			return false
		}
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = p.Wait(wctx)
		return err == nil
	})
}

// changeCommitted has leader change g's members, and waits until the
// change is applied there.
func changeCommitted(t *testing.T, leader *Host, g uint64, tickers []*ManualTicker, add, remove []uint64) {
	t.Helper()
	var p *Proposal
	eventually(t, "the change is accepted", tickers, func() bool {
		var err error
		p, err = leader.ChangeMembers(context.Background(), g, add, remove)
		return err == nil
	})
	eventually(t, "the change settles", tickers, func() bool { return isSettled(p) })
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.Wait(wctx); err != nil {
		t.Fatalf("change +%v -%v: %v", add, remove, err)
	}
}

func TestHostCluster(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	ctx := context.Background()
	net := &hostNet{hosts: map[uint64]*Host{}}
	peers := []uint64{1, 2, 3}
	groups := []uint64{7, 8, 9}
	var hosts []*Host
	var tickers []*ManualTicker
	sms := map[[2]uint64]*lockedKV{}
	for _, id := range peers {
		h, tk := startNetHost(t, net, id)
		hosts = append(hosts, h)
		tickers = append(tickers, tk)
		for _, g := range groups {
			sm := &lockedKV{kv: newKV()}
			sms[[2]uint64{id, g}] = sm
			if err := h.AddGroup(ctx, g, peers, sm); err != nil {
				t.Fatal(err)
			}
		}
	}
	leader := func(g uint64) *Host {
		for _, h := range hosts {
			if st, err := h.Status(ctx, g); err == nil && st.State == raft.StateLeader.String() {
				return h
			}
		}
		return nil
	}
	for _, g := range groups {
		eventually(t, "a leader", tickers, func() bool { return leader(g) != nil })
		var res Result
		eventually(t, "a committed proposal", tickers, func() bool {
			l := leader(g)
			if l == nil {
				return false
			}
			p, err := l.Propose(ctx, g, mustJSON(kvOp{Op: "put", K: "x", V: "y"}))
			if err != nil {
				return false
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			res, err = p.Wait(wctx)
			return err == nil
		})
		if res.Index == 0 || res.Term == 0 {
			t.Fatalf("group %d: result %+v", g, res)
		}
		eventually(t, "applied everywhere", tickers, func() bool {
			for _, id := range peers {
				if sms[[2]uint64{id, g}].get("x") != "y" {
					return false
				}
			}
			return true
		})
	}

	// Leadership moves on request.
	g := groups[0]
	l := leader(g)
	st, _ := l.Status(ctx, g)
	to := st.ID%3 + 1
	if err := l.TransferLeadership(ctx, g, to); err != nil {
		t.Fatal(err)
	}
	eventually(t, "leadership transferred", tickers, func() bool {
		s, err := hosts[to-1].Status(ctx, g)
		return err == nil && s.State == raft.StateLeader.String()
	})

	// A proposal in flight when the host closes ends with ErrStopped (or
	// commits first).
	l = leader(g)
	p, err := l.Propose(ctx, g, mustJSON(kvOp{Op: "put", K: "x", V: "z"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(ctx); err != nil && !errors.Is(err, ErrStopped) {
		t.Fatalf("in-flight proposal: %v", err)
	}
	if _, err := hosts[0].Status(ctx, g); !errors.Is(err, ErrStopped) {
		t.Fatalf("status after close: %v", err)
	}
	eventually(t, "goroutines gone", nil, func() bool { return runtime.NumGoroutine() <= goroutines })
}

func TestOptionsValidate(t *testing.T) {
	good := DefaultOptions()
	good.NodeID, good.Storage, good.Transport = 1, NewMemStorage(), hostTransport{}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"no node id", func(o *Options) { o.NodeID = 0 }},
		{"no storage", func(o *Options) { o.Storage = nil }},
		{"no transport", func(o *Options) { o.Transport = nil }},
		{"election not above heartbeat", func(o *Options) { o.ElectionTicks = o.HeartbeatTicks }},
		{"no tick interval", func(o *Options) { o.TickInterval = 0 }},
		{"no inbox", func(o *Options) { o.InboxSize = 0 }},
	}
	for _, tc := range tests {
		o := good
		tc.mod(&o)
		if o.Validate() == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// startNetHost starts host id on net, with memory storage and a manual
// clock; the caller closes it.
func startNetHost(t *testing.T, net *hostNet, id uint64) (*Host, *ManualTicker) {
	t.Helper()
	opts := DefaultOptions()
	opts.NodeID = id
	opts.Storage = NewMemStorage()
	opts.Transport = hostTransport{net}
	tk := NewManualTicker()
	opts.Ticker = tk
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	net.mu.Lock()
	net.hosts[id] = h
	net.mu.Unlock()
	h.Start()
	return h, tk
}
