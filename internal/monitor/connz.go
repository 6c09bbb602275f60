package monitor

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/subject"
)

// DefaultConnListSize is /connz's default page size.
const DefaultConnListSize = 1024

// Connz is /connz.
type Connz struct {
	ID       string      `json:"server_id"`
	Now      time.Time   `json:"now"`
	NumConns int         `json:"num_connections"`
	Total    int         `json:"total"`
	Offset   int         `json:"offset"`
	Limit    int         `json:"limit"`
	Conns    []*ConnInfo `json:"connections"`
}

// ConnInfo is one connection in /connz.
type ConnInfo struct {
	Cid            uint64       `json:"cid"`
	Kind           string       `json:"kind,omitempty"`
	Type           string       `json:"type,omitempty"`
	IP             string       `json:"ip"`
	Port           int          `json:"port"`
	Start          time.Time    `json:"start"`
	LastActivity   time.Time    `json:"last_activity"`
	Stop           *time.Time   `json:"stop,omitempty"`
	Reason         string       `json:"reason,omitempty"`
	RTT            string       `json:"rtt,omitempty"`
	Uptime         string       `json:"uptime"`
	Idle           string       `json:"idle"`
	Pending        int          `json:"pending_bytes"`
	InMsgs         int64        `json:"in_msgs"`
	OutMsgs        int64        `json:"out_msgs"`
	InBytes        int64        `json:"in_bytes"`
	OutBytes       int64        `json:"out_bytes"`
	NumSubs        uint32       `json:"subscriptions"`
	Name           string       `json:"name,omitempty"`
	Lang           string       `json:"lang,omitempty"`
	Version        string       `json:"version,omitempty"`
	TLSVersion     string       `json:"tls_version,omitempty"`
	TLSCipher      string       `json:"tls_cipher_suite,omitempty"`
	AuthorizedUser string       `json:"authorized_user,omitempty"`
	Account        string       `json:"account,omitempty"`
	Subs           []string     `json:"subscriptions_list,omitempty"`
	SubsDetail     []*SubDetail `json:"subscriptions_list_detail,omitempty"`

	rtt time.Duration  // for sort=rtt
	src *core.ConnInfo // what it was made from, for its subscriptions
}

// SubDetail describes one subscription in /connz and /subsz.
type SubDetail struct {
	Account string `json:"account,omitempty"`
	Subject string `json:"subject"`
	Queue   string `json:"qgroup,omitempty"`
	Sid     string `json:"sid"`
	Msgs    int64  `json:"msgs"`
	Max     int64  `json:"max,omitempty"`
	Cid     uint64 `json:"cid"`
}

// globalAccount is the name nats-server gives the account clients share
// when no accounts are configured.
const globalAccount = "$G"

func parseConnz(r *http.Request) (q ConnzOptions, err error) {
	qs := r.URL.Query()
	q.Sort, q.User, q.Account, q.FilterSubject = qs.Get("sort"), qs.Get("user"), qs.Get("acc"), qs.Get("filter_subject")
	if q.Auth, err = queryBool(r, "auth"); err != nil {
		return q, err
	}
	if q.Subscriptions, q.SubscriptionsDetail, err = querySubs(r); err != nil {
		return q, err
	}
	if q.Offset, err = queryInt(r, "offset"); err != nil {
		return q, err
	}
	if q.Limit, err = queryInt(r, "limit"); err != nil {
		return q, err
	}
	if q.CID, err = queryUint(r, "cid"); err != nil {
		return q, err
	}
	switch st := strings.ToLower(qs.Get("state")); st {
	case "", "open":
		q.State = ConnOpen
	case "closed":
		q.State = ConnClosed
	case "any", "all":
		q.State = ConnAll
	default:
		return q, fmt.Errorf("Error decoding state for %s", qs.Get("state"))
	}
	return q, checkConnz(&q)
}

// checkConnz refuses options /connz cannot use.
func checkConnz(q *ConnzOptions) error {
	switch q.Sort {
	case "", "cid", "start", "subs", "pending", "msgs_to", "msgs_from", "bytes_to", "bytes_from",
		"last", "idle", "uptime", "rtt":
	case "stop", "reason":
		if q.State != ConnClosed {
			return fmt.Errorf("sort by %s only valid on closed connections", q.Sort)
		}
	default:
		return fmt.Errorf("invalid sorting option: %s", q.Sort)
	}
	switch q.State {
	case ConnOpen, ConnClosed, ConnAll:
	default:
		return fmt.Errorf("invalid connection state: %d", q.State)
	}
	if q.FilterSubject != "" && !subject.Valid(q.FilterSubject) {
		return fmt.Errorf("invalid filter subject: %s", q.FilterSubject)
	}
	return nil
}

func (m *Server) handleConnz(w http.ResponseWriter, r *http.Request) {
	q, err := parseConnz(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	m.count("/connz")
	writeJSON(w, r, m.connz(&q))
}

// connzReport is /connz for a $SYS request: a bad option is an error of
// the report rather than of the request.
func (m *Server) connzReport(q *ConnzOptions) (*Connz, error) {
	if err := checkConnz(q); err != nil {
		return nil, badOption(err)
	}
	return m.connz(q), nil
}

func (m *Server) connz(q *ConnzOptions) *Connz {
	now := time.Now()
	withSubs := q.Subscriptions || q.SubscriptionsDetail || q.FilterSubject != ""
	var raw []core.ConnInfo
	if q.State != ConnClosed {
		raw = append(raw, m.core.Connections(withSubs)...)
	}
	if q.State != ConnOpen {
		raw = append(raw, m.core.ClosedConnections()...)
	}
	raw = slices.DeleteFunc(raw, func(ci core.ConnInfo) bool { return !q.keeps(&ci) })
	total := len(raw)
	if q.CID != 0 {
		q.Limit = 1
		raw = slices.DeleteFunc(raw, func(ci core.ConnInfo) bool { return ci.CID != q.CID })
	}
	// Subscription lists are built for the requested page only.
	conns := make([]*ConnInfo, 0, len(raw))
	for i := range raw {
		conns = append(conns, convertConn(&raw[i], now, q))
	}
	sortConns(conns, q.Sort, now)
	offset, limit, lo, hi := page(q.Offset, q.Limit, len(conns), DefaultConnListSize)
	page := conns[lo:hi]
	for _, c := range page {
		addSubs(c, q)
	}
	return &Connz{
		ID:       m.core.ID(),
		Now:      now.UTC(),
		NumConns: len(page),
		Total:    total,
		Offset:   offset,
		Limit:    limit,
		Conns:    page,
	}
}

// keeps applies the filters by user, account and subject.
func (q *ConnzOptions) keeps(ci *core.ConnInfo) bool {
	if q.User != "" && ci.User != q.User {
		return false
	}
	if q.Account != "" && ci.Account != q.Account {
		return false
	}
	if q.FilterSubject == "" {
		return true
	}
	for _, s := range ci.Subs {
		if subject.Matches(s.Subject, q.FilterSubject) || subject.Matches(q.FilterSubject, s.Subject) {
			return true
		}
	}
	return false
}

func convertConn(ci *core.ConnInfo, now time.Time, q *ConnzOptions) *ConnInfo {
	end := now
	out := &ConnInfo{
		Cid:          ci.CID,
		Kind:         "Client",
		Type:         "nats",
		IP:           ci.IP,
		Port:         ci.Port,
		Start:        ci.Start.UTC(),
		LastActivity: ci.LastActivity.UTC(),
		Pending:      ci.PendingBytes,
		InMsgs:       ci.InMsgs,
		OutMsgs:      ci.OutMsgs,
		InBytes:      ci.InBytes,
		OutBytes:     ci.OutBytes,
		NumSubs:      uint32(ci.NumSubs),
		Name:         ci.Name,
		Lang:         ci.Lang,
		Version:      ci.Version,
		TLSVersion:   ci.TLSVersion,
		TLSCipher:    ci.TLSCipher,
		RTT:          rtt(ci.RTT),
		rtt:          ci.RTT,
		src:          ci,
	}
	if !ci.Stop.IsZero() {
		stop := ci.Stop.UTC()
		out.Stop, out.Reason = &stop, ci.Reason
		end = ci.Stop
	}
	out.Uptime = uptime(end.Sub(ci.Start))
	out.Idle = uptime(now.Sub(ci.LastActivity))
	if q.Auth && ci.User != "" {
		out.AuthorizedUser, out.Account = ci.User, ci.Account
	}
	return out
}

// addSubs lists c's subscriptions as the query asks.
func addSubs(out *ConnInfo, q *ConnzOptions) {
	ci := out.src
	for _, s := range ci.Subs {
		if q.SubscriptionsDetail {
			d := &SubDetail{Subject: s.Subject, Queue: s.Queue, Sid: s.SID, Msgs: s.Msgs, Max: s.Max, Cid: s.CID}
			if !ci.Stop.IsZero() {
				d.Account = ci.Account
			}
			out.SubsDetail = append(out.SubsDetail, d)
		} else if q.Subscriptions {
			out.Subs = append(out.Subs, s.Subject)
		}
	}
}

// sortConns orders connections as nats-server's sort options do: cid and
// uptime ascending, counters and times descending (largest first).
func sortConns(conns []*ConnInfo, by string, now time.Time) {
	desc := func(f func(*ConnInfo) int64) func(a, b *ConnInfo) int {
		return func(a, b *ConnInfo) int { return cmp.Compare(f(b), f(a)) }
	}
	var less func(a, b *ConnInfo) int
	switch by {
	case "", "cid", "start":
		less = func(a, b *ConnInfo) int { return cmp.Compare(a.Cid, b.Cid) }
	case "subs":
		less = desc(func(c *ConnInfo) int64 { return int64(c.NumSubs) })
	case "pending":
		less = desc(func(c *ConnInfo) int64 { return int64(c.Pending) })
	case "msgs_to":
		less = desc(func(c *ConnInfo) int64 { return c.OutMsgs })
	case "msgs_from":
		less = desc(func(c *ConnInfo) int64 { return c.InMsgs })
	case "bytes_to":
		less = desc(func(c *ConnInfo) int64 { return c.OutBytes })
	case "bytes_from":
		less = desc(func(c *ConnInfo) int64 { return c.InBytes })
	case "last":
		less = desc(func(c *ConnInfo) int64 { return c.LastActivity.UnixNano() })
	case "idle":
		less = desc(func(c *ConnInfo) int64 { return int64(now.Sub(c.LastActivity)) })
	case "uptime":
		less = func(a, b *ConnInfo) int {
			return cmp.Compare(connEnd(a, now).Sub(a.Start), connEnd(b, now).Sub(b.Start))
		}
	case "rtt":
		less = desc(func(c *ConnInfo) int64 { return int64(c.rtt) })
	case "stop":
		less = desc(func(c *ConnInfo) int64 { return connEnd(c, now).UnixNano() })
	case "reason":
		less = func(a, b *ConnInfo) int { return cmp.Compare(a.Reason, b.Reason) }
	}
	slices.SortStableFunc(conns, less)
}

func connEnd(c *ConnInfo, now time.Time) time.Time {
	if c.Stop != nil {
		return *c.Stop
	}
	return now
}
