package jetstream

import (
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
)

// usageAskers bounds how many stream leaders $JS.API.INFO asks at once.
const usageAskers = 8

// streamUsage is what one stream adds to its account's usage in a
// cluster.
type streamUsage struct {
	replicas  int    // servers that hold a copy
	memory    bool   // stored in memory, not in files
	bytes     uint64 // one copy's bytes
	consumers int
}

// accountUsage sums streams' usage as nats-server reports it in a
// cluster: every server counts the bytes it stores, so a stream's bytes
// count once per replica (an R3 stream of 100 bytes uses 300).
func accountUsage(streams []streamUsage) (mem, store uint64, consumers int) {
	for _, u := range streams {
		n := uint64(max(u.replicas, 1))
		if u.memory {
			mem += u.bytes * n
		} else {
			store += u.bytes * n
		}
		consumers += u.consumers
	}
	return mem, store, consumers
}

// clusterAccountInfo is $JS.API.INFO on the meta leader: the account's
// usage across the cluster. The streams are the meta state's; their bytes
// and consumers are their leaders' (asked as STREAM.LIST asks them).
func (m *jsAccount) clusterAccountInfo(r *request) any {
	resp, _ := m.accountInfo(r).(*jsapi.AccountInfoResponse)
	if resp == nil || resp.JetStreamAccountStats == nil {
		return resp
	}
	streams := m.metaStreams()
	mem, store, consumers := accountUsage(m.streamUsages(streams))
	resp.Streams = len(streams)
	resp.Memory, resp.Store, resp.Consumers = mem, store, consumers
	return resp
}

// streamUsages learns each assigned stream's usage from its leader, a few
// leaders at a time and within one askTimeout for all of them, so that an
// account of many streams, or of silent leaders, answers in bounded time.
func (m *jsAccount) streamUsages(streams []*jsmeta.Stream) []streamUsage {
	out := make([]streamUsage, len(streams))
	deadline := time.Now().Add(askTimeout)
	sem := make(chan struct{}, usageAskers)
	var wg sync.WaitGroup
	for i, sa := range streams {
		out[i] = streamUsage{replicas: len(sa.Group.Peers), memory: sa.Config.Storage == jsapi.MemoryStorage}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m.fillUsage(&out[i], sa, deadline)
		}()
	}
	wg.Wait()
	return out
}

// fillUsage sets a stream's bytes and consumers from its leader's info.
// A leader that does not answer in time leaves what this server knows:
// the bytes of its own replica, if it holds one (a follower's copy is at
// most a few entries behind), and the consumers the meta state assigns.
func (m *jsAccount) fillUsage(u *streamUsage, sa *jsmeta.Stream, deadline time.Time) {
	name := sa.Config.Name
	if left := time.Until(deadline); left > 0 {
		if info, e := m.askStreamInfo(name, left); e == nil && info != nil {
			u.bytes, u.consumers = info.State.Bytes, info.State.Consumers
			return
		}
	}
	if ent := m.lookup(name); ent != nil {
		u.bytes = ent.s.Store().State().Bytes
	}
	m.cl.read(func(st *jsmeta.State) { u.consumers = len(st.Consumers(m.name, name)) })
}
