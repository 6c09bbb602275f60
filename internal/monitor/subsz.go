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
	subs, err := queryBool(r, "subs")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	offset, err := queryInt(r, "offset")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	test := r.URL.Query().Get("test")
	if test != "" && !subject.ValidLiteral(test) {
		badRequest(w, fmt.Sprintf("invalid test subject, must be valid publish subject: %s", test))
		return
	}
	st := m.core.SublistStats()
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
	if subs {
		matched = m.core.Subscriptions()
		if test != "" {
			matched = slices.DeleteFunc(matched, func(s core.SubInfo) bool { return !subject.Matches(s.Subject, test) })
		}
	}
	var lo, hi int
	sz.Offset, sz.Limit, lo, hi = page(offset, limit, len(matched), DefaultSubListSize)
	sz.Total = len(matched)
	for _, s := range matched[lo:hi] {
		sz.Subs = append(sz.Subs, &SubDetail{
			Account: globalAccount, Subject: s.Subject, Queue: s.Queue, Sid: s.SID,
			Msgs: s.Msgs, Max: s.Max, Cid: s.CID,
		})
	}
	writeJSON(w, r, sz)
}
