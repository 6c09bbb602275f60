package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

// apiRole says which server of a cluster answers an API request.
type apiRole uint8

const (
	// roleMeta: the meta leader (assignments: create, update, delete,
	// listings, account info).
	roleMeta apiRole = iota
	// roleStream4, roleStream5: the leader of the stream named by the
	// subject's token 4 or 5 (reads and changes of a stream and its
	// consumers); the meta leader when the stream does not exist.
	roleStream4
	roleStream5
)

// metaProposeTimeout bounds waiting for the meta group to commit a change.
const metaProposeTimeout = 5 * time.Second

// clusterHandler picks how this server answers r in a cluster, nil when
// another server answers it.
func (m *jsAccount) clusterHandler(r *request) apiHandler {
	switch r.role {
	case roleMeta:
		if m.cl.isMetaLeader() {
			if h := metaHandlers[subjectKey(r.subject)]; h != nil {
				return h
			}
			return r.handler
		}
	default:
		name := token(r.subject, 4)
		if r.role == roleStream5 {
			name = token(r.subject, 5)
		}
		if ent := m.lookup(name); ent != nil && ent.leads() {
			return r.handler
		}
		if m.cl.isMetaLeader() && !m.cl.streamAssigned(m.name, name) {
			return r.handler // not found, in the API's own response
		}
	}
	if !r.routed && m.cl.metaLeaderless() {
		// The publisher's server speaks for a cluster without a leader.
		return unavailable
	}
	return nil
}

// unavailable answers a request no server can serve now.
func unavailable(_ *jsAccount, _ *request) any {
	return &jsapi.ApiResponse{Error: jsapi.NewError(jsapi.ErrClusterNotAvail)}
}

// metaHandlers are the meta leader's own versions of the handlers whose
// single-server versions act on this server's streams alone.
var metaHandlers = map[string]apiHandler{
	"STREAM.CREATE":  (*jsAccount).clusterStreamCreate,
	"STREAM.UPDATE":  (*jsAccount).clusterStreamUpdate,
	"STREAM.DELETE":  (*jsAccount).clusterStreamDelete,
	"STREAM.NAMES":   (*jsAccount).clusterStreamNames,
	"STREAM.LIST":    (*jsAccount).clusterStreamList,
	"INFO":           (*jsAccount).clusterAccountInfo,
	"STREAM.RESTORE": (*jsAccount).clusterStreamRestore,
}

// subjectKey is the API name of a request subject: "STREAM.CREATE" for
// $JS.API.STREAM.CREATE.<name>.
func subjectKey(subject string) string {
	a, b := token(subject, 2), token(subject, 3)
	if b == "" || a == "INFO" {
		return a
	}
	return a + "." + b
}

// streamAssigned reports whether the meta state holds the stream.
func (c *cluster) streamAssigned(account, name string) bool {
	found := false
	c.read(func(st *jsmeta.State) { found = st.Stream(account, name) != nil })
	return found
}

// metaStreams returns the account's assignments, by name.
func (m *jsAccount) metaStreams() []*jsmeta.Stream {
	var out []*jsmeta.Stream
	m.cl.read(func(st *jsmeta.State) { out = st.Streams(m.name) })
	return out
}

// proposeError turns a failed meta proposal into the requester's answer.
func proposeError(err error, fallback jsapi.ErrorID) *jsapi.ApiError {
	var nl *raftnode.NotLeaderError
	switch {
	case errors.As(err, &nl), errors.Is(err, context.DeadlineExceeded):
		return jsapi.NewError(jsapi.ErrClusterNotAvail)
	case errors.Is(err, jsmeta.ErrStreamExists):
		return jsapi.NewError(jsapi.ErrStreamNameExist)
	case errors.Is(err, jsmeta.ErrStreamNotFound):
		return jsapi.NewError(jsapi.ErrStreamNotFound)
	}
	return jsapi.NewError(fallback, err)
}

func (m *jsAccount) clusterStreamCreate(r *request) any {
	resp := &jsapi.StreamCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamCreateResponse}}
	var req jsapi.StreamConfigRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	if e := jsapi.CheckStreamCreate(streamName(r.subject), req.StreamConfig); e != nil {
		resp.Error = e
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	cfg, e := m.checkConfig(req.StreamConfig, req.Pedantic)
	if e != nil {
		resp.Error = e
		return resp
	}
	if err := jsapi.CheckOriginFilters(cfg); err != nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamCreate, err)
		return resp
	}
	var op jsmeta.Op
	var existing bool
	m.cl.read(func(st *jsmeta.State) {
		if lim := m.lim(); lim.MaxStreams > 0 && st.Stream(m.name, cfg.Name) == nil && len(st.Streams(m.name)) >= lim.MaxStreams {
			e = jsapi.NewError(jsapi.ErrMaximumStreamsLimit)
			return
		}
		m.cl.decide(func(rng *rand.Rand) {
			op, existing, e = jsmeta.PlanAddStream(st, m.cl.placementCluster(), m.name, cfg, time.Now(), rng)
		})
	})
	if e != nil {
		resp.Error = e
		return resp
	}
	if existing {
		// The same create again: answered with the stream as it is, by
		// its leader, as a create of it would be.
		info, e := m.askStreamInfo(cfg.Name, askTimeout)
		if e != nil {
			resp.Error = e
			return resp
		}
		resp.StreamInfo, resp.DidCreate = info, true
		return resp
	}
	op.Stream.Reply = r.reply
	ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
	defer cancel()
	if _, err := m.cl.propose(ctx, op); err != nil {
		resp.Error = proposeError(err, jsapi.ErrStreamCreate)
		return resp
	}
	return nil // the stream's leader answers once it leads
}

func (m *jsAccount) clusterStreamUpdate(r *request) any {
	resp := &jsapi.StreamUpdateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamUpdateResponse}}
	var req jsapi.StreamConfigRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	cfg, e := m.checkConfig(req.StreamConfig, req.Pedantic)
	if e != nil {
		resp.Error = e
		return resp
	}
	if streamName(r.subject) != cfg.Name {
		resp.Error = jsapi.NewError(jsapi.ErrStreamMismatch)
		return resp
	}
	var op jsmeta.Op
	m.cl.read(func(st *jsmeta.State) {
		cur := st.Stream(m.name, cfg.Name)
		if cur == nil {
			e = jsapi.NewError(jsapi.ErrStreamNotFound)
			return
		}
		if e = jsapi.CheckStreamUpdate(cur.Config, cfg); e != nil {
			return
		}
		jsapi.Seal(&cfg)
		m.cl.decide(func(rng *rand.Rand) {
			op, e = jsmeta.PlanUpdateStream(st, m.cl.placementCluster(), m.name, cfg, rng)
		})
	})
	if e == nil && m.overlaps(&cfg, cfg.Name) {
		e = jsapi.NewError(jsapi.ErrStreamSubjectOverlap)
	}
	if e != nil {
		resp.Error = e
		return resp
	}
	op.Stream.Reply = r.reply
	ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
	defer cancel()
	if _, err := m.cl.propose(ctx, op); err != nil {
		resp.Error = proposeError(err, jsapi.ErrStreamUpdate)
		return resp
	}
	return nil // the stream's leader answers once it applied it
}

func (m *jsAccount) clusterStreamDelete(r *request) any {
	resp := &jsapi.StreamDeleteResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamDeleteResponse}}
	name := streamName(r.subject)
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
	defer cancel()
	op := jsmeta.Op{Kind: jsmeta.RemoveStream, Stream: &jsmeta.Stream{Account: m.name, Config: jsapi.StreamConfig{Name: name}, Reply: r.reply}}
	if _, err := m.cl.propose(ctx, op); err != nil {
		resp.Error = proposeError(err, jsapi.ErrStreamDelete)
		return resp
	}
	return nil // the stream's leader answers once it removed it
}

// metaFiltered returns the account's assignments whose subjects overlap
// filter (all of them when it is empty).
func (m *jsAccount) metaFiltered(filter string) []*jsmeta.Stream {
	return bySubjects(m.metaStreams(), filter, func(sa *jsmeta.Stream) []string { return sa.Config.Subjects })
}

func (m *jsAccount) clusterStreamNames(r *request) any {
	resp := &jsapi.StreamNamesResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamNamesResponse}}
	var req jsapi.StreamNamesRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	all := m.metaFiltered(req.Subject)
	pg := paginate(len(all), req.Offset, namesPageSize)
	resp.ApiPaged = pg.paged
	for _, sa := range all[pg.from:pg.to] {
		resp.Streams = append(resp.Streams, sa.Config.Name)
	}
	return resp
}

func (m *jsAccount) clusterStreamList(r *request) any {
	resp := &jsapi.StreamListResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamListResponse}}
	var req jsapi.StreamListRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	all := m.metaFiltered(req.Subject)
	pg := paginate(len(all), req.Offset, listPageSize)
	resp.ApiPaged = pg.paged
	resp.Streams = []*jsapi.StreamInfo{}
	// One bound for the page: streams whose leaders are silent must not
	// each cost a wait (a page holds 256).
	deadline := time.Now().Add(askTimeout)
	for _, sa := range all[pg.from:pg.to] {
		var info *jsapi.StreamInfo
		e := jsapi.NewError(jsapi.ErrClusterNotAvail)
		if left := time.Until(deadline); left > 0 {
			info, e = m.askStreamInfo(sa.Config.Name, left)
		}
		if e != nil {
			// Its leader did not answer: what the assignment says.
			info = &jsapi.StreamInfo{Config: sa.Config, Created: sa.Created,
				Cluster: &jsapi.ClusterInfo{Name: m.srv.ClusterName(), RaftGroup: sa.Group.Name}}
			resp.Missing = append(resp.Missing, sa.Config.Name)
		}
		resp.Streams = append(resp.Streams, info)
	}
	return resp
}

// askTimeout bounds waiting for another server's answer.
const askTimeout = 2 * time.Second

// askStreamInfo asks the stream's leader, wherever it is, for its info.
func (m *jsAccount) askStreamInfo(name string, wait time.Duration) (*jsapi.StreamInfo, *jsapi.ApiError) {
	if ent := m.lookup(name); ent != nil && ent.leads() {
		return m.leaderInfo(ent), nil
	}
	b, err := m.ask("$JS.API.STREAM.INFO."+name, nil, wait)
	if err != nil {
		return nil, jsapi.NewError(jsapi.ErrClusterNotAvail)
	}
	var resp jsapi.StreamInfoResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, jsapi.NewError(jsapi.ErrClusterNotAvail)
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	return resp.StreamInfo, nil
}

// ask sends an API request into the cluster and waits up to wait for its
// answer.
func (m *jsAccount) ask(subject string, body []byte, wait time.Duration) ([]byte, error) {
	inbox := "_INBOX.jsc." + nuidish()
	got := make(chan []byte, 1)
	sub, err := m.api.Subscribe(inbox, "", func(msg *core.Msg) {
		select {
		case got <- append([]byte(nil), msg.Data...):
		default:
		}
	})
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if _, err := m.api.Publish(subject, inbox, nil, body); err != nil {
		return nil, err
	}
	select {
	case b := <-got:
		return b, nil
	case <-time.After(wait):
		return nil, errors.New("jetstream cluster: no answer")
	case <-m.quit:
		return nil, errors.New("jetstream: shutting down")
	}
}
