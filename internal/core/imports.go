package core

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nuid"

	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/subject"
)

// Imports: how a message crosses from one account to another. An account
// that imports a stream gets the messages published in the exporting
// account on its subjects (renamed by a prefix or a mapping); an account
// that imports a service may publish requests that reach the exporter's
// responders, and gets their responses on its own reply subjects.
//
// An import is a subscription in the account the messages come from,
// whose delivery publishes the message again in the other account, on the
// publisher's goroutine, as if the publisher had published it there:
// local subscribers, queue groups and routes of that account as for any
// message. A message arriving from a route is not imported again: its
// publisher's server imported it already and forwarded the result to the
// servers that want it. Responses are the exception: the reply subject of
// a service import leads back to the requester's server only, and it
// imports the response whichever server the responder is on.

// importKind is what an import subscription does.
type importKind uint8

const (
	importStream   importKind = iota // messages of the exporter reach the importer
	importService                    // requests of the importer reach the exporter
	importResponse                   // responses reach the importer's reply subjects
)

// ResponseType is how many responses a service import passes back per
// request, as nats-server's response_type names them.
type ResponseType uint8

const (
	ResponseSingleton ResponseType = iota // one response
	ResponseStream                        // any number, until the threshold passes
	ResponseChunked                       // any number (chunks of one response), likewise
)

// DefaultResponseThreshold is how long a service import waits for the
// responses to a request (nats-server's default).
const DefaultResponseThreshold = 2 * time.Minute

// maxPendingResponses bounds the requests a service import tracks; when
// it is reached, expired ones are forgotten first, then any.
const maxPendingResponses = 100_000

// maxImportDepth bounds how many imports one message crosses, should a
// configuration chain them into a loop.
const maxImportDepth = 8

// imp is one import subscription's target.
type imp struct {
	key       string // the configured import it comes from ("" when added by code)
	kind      importKind
	to        *Account           // the account the message is published in
	transform *subject.Transform // renames the subject; nil keeps it
	prefix    string             // stream imports: put before the subject

	// Service imports: the reply subjects handed to the exporter, and
	// where each leads back.
	respType  ResponseType
	threshold time.Duration
	replyBase string // "_R_.<id>." in the exporter's account
	seq       atomic.Uint64
	pending   *pendingReplies
	reqInfo   bool // requests carry the requester's RequestInfo header
}

// pendingReplies maps a service import's reply subjects to the requesters'.
type pendingReplies struct {
	mu sync.Mutex
	m  map[string]pendingReply
}

type pendingReply struct {
	reply   string
	expires time.Time
	single  bool
}

func (p *pendingReplies) add(key string, pr pendingReply) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= maxPendingResponses {
		// Full: the expired go first, then any, down to 7/8 of the bound,
		// so that the scan runs once per many requests, not for each.
		now := time.Now()
		for k, e := range p.m {
			if now.After(e.expires) {
				delete(p.m, k)
			}
		}
		for k := range p.m {
			if len(p.m) <= maxPendingResponses/8*7 {
				break
			}
			delete(p.m, k)
		}
	}
	p.m[key] = pr
}

// take returns where key leads, forgetting it after a singleton's one
// response.
func (p *pendingReplies) take(key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[key]
	if !ok {
		return "", false
	}
	if e.single || time.Now().After(e.expires) {
		delete(p.m, key)
		if time.Now().After(e.expires) {
			return "", false
		}
	}
	return e.reply, true
}

// AddStreamImport makes messages published in src on subj (wildcards
// allowed) reach dst's subscribers: on prefix + "." + the subject when
// prefix is set, else on the subject mapped by to (a destination as in
// subject mappings, "" for the subject unchanged).
func (s *Server) AddStreamImport(dst, src *Account, subj, prefix, to string) error {
	return s.addStreamImport("", dst, src, subj, prefix, to)
}

func (s *Server) addStreamImport(key string, dst, src *Account, subj, prefix, to string) error {
	im := &imp{key: key, kind: importStream, to: dst, prefix: prefix}
	if to != "" && prefix == "" {
		t, err := subject.NewTransform(subj, to)
		if err != nil {
			return fmt.Errorf("stream import %q: %w", subj, err)
		}
		im.transform = t
	}
	return s.importSub(src, subj, im)
}

// AddServiceImport lets dst's clients send requests on to (subj when
// empty) that reach src's responders on subj; their responses reach the
// requesters' reply subjects in dst. threshold bounds how long responses
// are awaited (0: DefaultResponseThreshold).
func (s *Server) AddServiceImport(dst, src *Account, subj, to string, rt ResponseType, threshold time.Duration) error {
	return s.addServiceImport("", dst, src, subj, to, rt, threshold, false)
}

// addServiceImport is AddServiceImport; key names the import for a
// reload (accountsetup.go, "" for none) and reqInfo adds the requester's
// identity to each request (events.go).
func (s *Server) addServiceImport(key string, dst, src *Account, subj, to string, rt ResponseType, threshold time.Duration, reqInfo bool) error {
	if to == "" {
		to = subj
	}
	if threshold <= 0 {
		threshold = DefaultResponseThreshold
	}
	im := &imp{key: key, kind: importService, to: src, respType: rt, threshold: threshold, reqInfo: reqInfo,
		replyBase: "_R_." + nuid.Next() + ".", pending: &pendingReplies{m: map[string]pendingReply{}}}
	if to != subj {
		t, err := subject.NewTransform(to, subj)
		if err != nil {
			return fmt.Errorf("service import %q: %w", to, err)
		}
		im.transform = t
	}
	resp := &imp{key: key, kind: importResponse, to: dst, pending: im.pending}
	if err := s.importSub(src, im.replyBase+">", resp); err != nil {
		return err
	}
	return s.importSub(dst, to, im)
}

// importSub subscribes an import in acc, on behalf of the server.
func (s *Server) importSub(acc *Account, subj string, im *imp) error {
	c := s.importClient(acc)
	sub := &subscription{client: c, subject: subj, sid: []byte(strconv.FormatUint(s.nextCID.Add(1), 10)), imp: im}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := acc.subscribe(sub); err != nil {
		return fmt.Errorf("import %q: %w", subj, err)
	}
	c.subs[string(sub.sid)] = sub
	return nil
}

// removeImports drops the import subscriptions of every account whose
// configured import is not in keep; those added by code stay. Requests
// in flight through a removed service import get no response.
func (s *Server) removeImports(keep map[string]bool) {
	for _, acc := range s.accountList() {
		acc.mu.Lock()
		c := acc.importer
		acc.mu.Unlock()
		if c == nil {
			continue
		}
		var gone []*subscription
		c.mu.Lock()
		for _, sub := range c.subs {
			if sub.imp != nil && sub.imp.key != "" && !keep[sub.imp.key] {
				gone = append(gone, sub)
			}
		}
		c.mu.Unlock()
		for _, sub := range gone {
			c.removeSub(sub)
		}
	}
}

// importKeys are the configured imports in force, by key.
func (s *Server) importKeys() map[string]bool {
	keys := map[string]bool{}
	for _, acc := range s.accountList() {
		acc.mu.Lock()
		c := acc.importer
		acc.mu.Unlock()
		if c == nil {
			continue
		}
		c.mu.Lock()
		for _, sub := range c.subs {
			if sub.imp != nil && sub.imp.key != "" {
				keys[sub.imp.key] = true
			}
		}
		c.mu.Unlock()
	}
	return keys
}

// importClient is the owner of acc's import subscriptions: a client
// without a socket that never publishes itself.
func (s *Server) importClient(acc *Account) *client {
	acc.mu.Lock()
	defer acc.mu.Unlock()
	if acc.importer == nil {
		c := &client{
			transport: transport{srv: s, cid: s.nextCID.Add(1), start: time.Now(), log: s.log.With("imports", acc.name)},
			acc:       acc,
			subs:      map[string]*subscription{},
		}
		c.p = c
		c.out.init(s.getOpts().MaxPending)
		acc.importer = c
	}
	return acc.importer
}

// deliverImport publishes the message c is routing again in the import's
// account. It reports whether anyone there took it.
func (c *client) deliverImport(sub *subscription, cmd *proto.Cmd) bool {
	im := sub.imp
	if (c.fromRoute != nil && im.kind != importResponse) || c.importDepth >= maxImportDepth {
		return false
	}
	subj := cmd.Subject
	switch {
	case im.prefix != "":
		subj = append(append([]byte(im.prefix), '.'), subj...)
	case im.transform != nil:
		mapped, ok := im.transform.Apply(string(subj))
		if !ok {
			return false
		}
		subj = []byte(mapped)
	}
	out := *cmd
	out.Subject = subj
	switch im.kind {
	case importService:
		if len(cmd.Reply) > 0 {
			key := strconv.FormatUint(im.seq.Add(1), 36)
			im.pending.add(key, pendingReply{reply: string(cmd.Reply),
				expires: time.Now().Add(im.threshold), single: im.respType == ResponseSingleton})
			out.Reply = []byte(im.replyBase + key)
		}
		if im.reqInfo {
			out = c.withRequestInfo(out)
		}
	case importResponse:
		key := string(cmd.Subject[len(sub.subject)-1:]) // after "_R_.<id>."
		reply, ok := im.pending.take(key)
		if !ok {
			return false
		}
		out.Subject = []byte(reply)
	}
	return c.routeIn(im.to, &out)
}

// routeIn delivers cmd to the subscribers of acc, another account than
// c's, keeping c's own routing state (the routes noted for the message c
// is routing) aside meanwhile.
func (c *client) routeIn(acc *Account, cmd *proto.Cmd) bool {
	saved, savedAcc, savedQueues := c.forwards, c.fwdAcc, c.routeQueues
	c.forwards, c.fwdAcc, c.routeQueues = nil, acc, nil
	c.importDepth++
	defer func() {
		c.importDepth--
		c.forwards, c.fwdAcc, c.routeQueues = saved, savedAcc, savedQueues
	}()
	return c.deliverAll(acc.sl.Match(string(cmd.Subject)), cmd)
}
