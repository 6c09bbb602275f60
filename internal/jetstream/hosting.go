package jetstream

import (
	"slices"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
)

// Hosting carries out, on this server, what the meta group decided
// (jscluster.Hosting): every stream and consumer whose group names this
// server is hosted with the assignment's configuration, and nothing else
// is. It is the "hosting" half of host.go, driven by committed
// assignments instead of by an API handler.
type Hosting struct {
	m    *Manager
	self string // this server's name, as groups name their members
	// held: this server rejoins the meta group (rejoin.go) and hosts
	// nothing until its log is past the assignments that name it in
	// groups it no longer remembers.
	held atomic.Bool
}

// Hosting returns the hosting of this server's share of the assignments.
func (m *Manager) Hosting(serverName string) *Hosting { return &Hosting{m: m, self: serverName} }

// mine reports whether g names this server.
func (h *Hosting) mine(g jsmeta.Group) bool { return slices.Contains(g.Peers, h.self) }

// Changed hosts or unhosts what one committed operation changed.
func (h *Hosting) Changed(ch jsmeta.Change) {
	if h.held.Load() {
		return
	}
	switch ch.Kind {
	case jsmeta.AddStream, jsmeta.UpdateStream:
		h.stream(ch.Stream)
	case jsmeta.RemoveStream:
		h.unhostStream(ch.Stream.Account, ch.Stream.Config.Name, ch.Stream.Reply)
	case jsmeta.AddConsumer:
		h.consumer(ch.Consumer)
	case jsmeta.RemoveConsumer:
		h.unhostConsumer(ch.Consumer)
	case jsmeta.RemovePeer:
		// The groups' new members are in the state, not in the change:
		// the caller passes the state to Restored to reconcile. The
		// server is not added back to the meta group while this one
		// runs.
		if cl := h.m.cl; cl != nil && !ch.Repair {
			cl.removed.Store(ch.Peer, true)
		}
	}
}

// Restored makes what this server hosts match the whole state: after a
// snapshot, or when a change is best handled by reconciling.
func (h *Hosting) Restored(st *jsmeta.State) {
	if h.held.Load() {
		return
	}
	streams, consumers := st.Hosted(h.self)
	want := map[[2]string]bool{}
	for _, sa := range streams {
		want[[2]string{sa.Account, sa.Config.Name}] = true
		h.stream(sa)
	}
	for _, ca := range consumers {
		h.consumer(ca)
	}
	if cl := h.m.cl; cl != nil {
		cl.quarantine.Range(func(k, _ any) bool {
			if !want[splitKey(k.(string))] {
				cl.quarantine.Delete(k) // no longer assigned here
			}
			return true
		})
	}
	for _, a := range h.m.accountList() {
		for _, e := range a.sortedStreams() {
			name := e.s.Name()
			switch {
			case want[[2]string{a.name, name}]:
			case e.rep != nil && e.rep.group() != nil && st.Stream(a.name, name) != nil:
				e.rep.asg.Store(st.Stream(a.name, name)) // as in stream: a leader hands over
				e.rep.poke()
				h.leaveWhenRemoved(a, e, a.name, name)
			default:
				h.unhostStream(a.name, name, "")
			}
		}
	}
}

// stream hosts sa when its group names this server (creating it or
// bringing it to sa's configuration), and unhosts it when it no longer
// does.
func (h *Hosting) stream(sa *jsmeta.Stream) {
	a := h.m.account(sa.Account)
	if a == nil {
		h.m.log.Warn("assignment for an account without JetStream here", "account", sa.Account, "stream", sa.Config.Name)
		return
	}
	if !h.mine(sa.Group) {
		if h.m.cl != nil {
			h.m.cl.quarantine.Delete(quarantineKey(sa.Account, sa.Config.Name))
		}
		if ent := a.lookup(sa.Config.Name); ent != nil && ent.rep != nil && ent.rep.group() != nil {
			// Taken out of the group: its removal may need this
			// member's vote, so it leaves once removed. A leader
			// leads until then, and must know the peers it hands
			// over to (replica_members.go).
			ent.rep.asg.Store(sa)
			ent.rep.poke()
			h.leaveWhenRemoved(a, ent, sa.Account, sa.Config.Name)
			return
		}
		h.unhostStream(sa.Account, sa.Config.Name, "")
		return
	}
	if h.m.clustered() {
		a.adminMu.Lock()
		answer := a.hostAssigned(sa)
		a.adminMu.Unlock()
		answer()
		return
	}
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	assign := &streamAssignment{Config: sa.Config, Created: sa.Created, Peers: sa.Group.Peers}
	if ent := a.lookup(sa.Config.Name); ent != nil {
		if err := a.hostStreamUpdate(ent, assign); err != nil {
			a.log.Error("assigned stream not updated", "stream", sa.Config.Name, "err", err)
		}
		return
	}
	if _, err := a.hostNewStream(assign); err != nil {
		a.log.Error("assigned stream not hosted", "stream", sa.Config.Name, "err", err)
	}
}

// unhostStream removes a stream this server no longer holds; the server
// that led it answers reply, the requester of its deletion (as
// nats-server's stream leader does), once it is gone.
func (h *Hosting) unhostStream(account, name, reply string) {
	a := h.m.account(account)
	if a == nil {
		return
	}
	a.adminMu.Lock()
	ent := a.lookup(name)
	led := ent != nil && ent.leads()
	if _, err := a.unhostStream(name); err != nil {
		a.log.Error("unassigned stream not removed", "stream", name, "err", err)
	}
	a.adminMu.Unlock()
	if led && reply != "" { // answered with no lock held
		a.answer(reply, &jsapi.StreamDeleteResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamDeleteResponse}, Success: true})
	}
}

func (h *Hosting) consumer(ca *jsmeta.Consumer) {
	a := h.m.account(ca.Account)
	if a == nil {
		return
	}
	if !h.mine(ca.Group) {
		h.unhostConsumer(ca)
		return
	}
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	ent := a.lookup(ca.Stream)
	if ent == nil {
		a.log.Error("consumer assigned to a stream not hosted here", "stream", ca.Stream, "consumer", ca.Name)
		return
	}
	cfg := ca.Config
	if cfg.Name == "" {
		cfg.Name = ca.Name
	}
	if _, err := a.hostConsumer(ent, &consumerAssignment{Stream: ca.Stream, Config: cfg, Created: ca.Created, Peers: ca.Group.Peers}); err != nil {
		a.log.Error("assigned consumer not hosted", "stream", ca.Stream, "consumer", ca.Name, "err", err)
	}
}

func (h *Hosting) unhostConsumer(ca *jsmeta.Consumer) {
	a := h.m.account(ca.Account)
	if a == nil {
		return
	}
	a.adminMu.Lock()
	defer a.adminMu.Unlock()
	if ent := a.lookup(ca.Stream); ent != nil {
		a.removeConsumer(ent, ca.Name, nil)
	}
}
