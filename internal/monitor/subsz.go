package monitor

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/subject"
)

// DefaultSubListSize is /subsz's default page size.
const DefaultSubListSize = 1024

// Subsz is /subsz: the subscription trie's statistics and, with subs=1, a
// page of subscriptions.
type Subsz struct {
	ID        string       `json:"server_id"`
	Now       time.Time    `json:"now"`
	NumSubs   uint32       `json:"num_subscriptions"`
	NumCache  uint32       `json:"num_cache"`
	NumInsert uint64       `json:"num_inserts"`
	NumRemove uint64       `json:"num_removes"`
	NumMatch  uint64       `json:"num_matches"`
	CacheHit  float64      `json:"cache_hit_rate"`
	MaxFanout uint32       `json:"max_fanout"`
	AvgFanout float64      `json:"avg_fanout"`
	Total     int          `json:"total"`
	Offset    int          `json:"offset"`
	Limit     int          `json:"limit"`
	Subs      []*SubDetail `json:"subscriptions_list,omitempty"`
}

func (m *Server) handleSubsz(w http.ResponseWriter, r *http.Request) {
	m.count("/subsz")
	var o SubszOptions
	var err error
	if o.Subscriptions, err = queryBool(r, "subs"); err != nil {
		badRequest(w, err.Error())
		return
	}
	if o.Offset, err = queryInt(r, "offset"); err != nil {
		badRequest(w, err.Error())
		return
	}
	if o.Limit, err = queryInt(r, "limit"); err != nil {
		badRequest(w, err.Error())
		return
	}
	o.Test, o.Account = r.URL.Query().Get("test"), r.URL.Query().Get("acc")
	sz, err := m.subsz(&o)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	writeJSON(w, r, sz)
}

// subszReport is /subsz for a $SYS request.
func (m *Server) subszReport(o *SubszOptions) (*Subsz, error) {
	sz, err := m.subsz(o)
	if err != nil {
		return nil, badOption(err)
	}
	return sz, nil
}

// subsz reports one account's trie with o.Account, else every account's
// together.
func (m *Server) subsz(o *SubszOptions) (*Subsz, error) {
	if o.Test != "" && !subject.ValidLiteral(o.Test) {
		return nil, fmt.Errorf("invalid test subject, must be valid publish subject: %s", o.Test)
	}
	var st subject.Stats
	if o.Account != "" {
		var ok bool
		if st, ok = m.core.AccountSublistStats(o.Account); !ok {
			return nil, fmt.Errorf("account %q not found", o.Account)
		}
	} else {
		st = m.serverSublistStats()
	}
	sz := &Subsz{
		ID:        m.core.ID(),
		Now:       time.Now().UTC(),
		NumSubs:   uint32(st.Subscriptions),
		NumCache:  uint32(st.Cached),
		NumInsert: st.Inserts,
		NumRemove: st.Removes,
		NumMatch:  st.Matches,
		CacheHit:  st.CacheHitRate,
		MaxFanout: uint32(st.MaxFanout),
		AvgFanout: st.AvgFanout,
	}
	// Details are built for the requested page only: the whole list can
	// be millions of subscriptions.
	var matched []core.SubInfo
	if o.Subscriptions {
		if o.Account != "" {
			matched = m.core.AccountSubscriptions(o.Account)
		} else {
			matched = m.core.Subscriptions()
		}
		if o.Test != "" {
			matched = slices.DeleteFunc(matched, func(s core.SubInfo) bool { return !subject.Matches(s.Subject, o.Test) })
		}
	}
	var lo, hi int
	sz.Offset, sz.Limit, lo, hi = page(o.Offset, o.Limit, len(matched), DefaultSubListSize)
	sz.Total = len(matched)
	for _, s := range matched[lo:hi] {
		sz.Subs = append(sz.Subs, &SubDetail{
			Account: s.Account, Subject: s.Subject, Queue: s.Queue, Sid: s.SID,
			Msgs: s.Msgs, Max: s.Max, Cid: s.CID,
		})
	}
	return sz, nil
}

// serverSublistStats merges every account's trie counters: sums, the
// largest fanout, and rates weighted by what they are rates of.
func (m *Server) serverSublistStats() subject.Stats {
	var out subject.Stats
	var hits, fanout float64
	for _, name := range m.core.AccountNames() {
		st, ok := m.core.AccountSublistStats(name)
		if !ok {
			continue
		}
		out.Subscriptions += st.Subscriptions
		out.Cached += st.Cached
		out.Inserts += st.Inserts
		out.Removes += st.Removes
		out.Matches += st.Matches
		out.MaxFanout = max(out.MaxFanout, st.MaxFanout)
		hits += st.CacheHitRate * float64(st.Matches)
		fanout += st.AvgFanout * float64(st.Cached)
	}
	if out.Matches > 0 {
		out.CacheHitRate = hits / float64(out.Matches)
	}
	if out.Cached > 0 {
		out.AvgFanout = fanout / float64(out.Cached)
	}
	return out
}
