package stream

// proposals is a leader's tail of entries proposed but not yet applied.
// A replicated stream's leader proposes each publish as it comes and
// applies it only once Raft has committed it, so several proposals are
// in flight at once; each must be checked as if those before it were
// already applied. Propose reads the stream's applied state through the
// tail: the next sequence and time, the last message ID, message IDs
// still pending (duplicates inside the pipeline), the last pending
// sequence of each subject, and the messages and bytes pending (for
// discard-new limits).
//
// What the tail cannot foresee is what applying its entries removes by
// discard-old limits (a subject's last stored message pushed out by
// max_msgs, say): an expected-last-subject-sequence check then sees the
// message still stored. Every replica
// applies whatever was decided, so the replicas still agree.
//
// The tail is empty on a follower and on a single server (Ingest), where
// propose reads the applied state alone.
type proposals struct {
	items  []pendingItem // in sequence order
	head   int           // items[:head] are consumed
	last   uint64        // sequence of the last proposal, 0 when empty
	lastTS int64
	lmsgID string
	ids    map[string]pendingItem // by Nats-Msg-Id
	subjs  map[string]subjPending // stored (EntryMsg) proposals by subject
	msgs   uint64                 // messages the proposals add once applied
	bytes  int64                  // bytes they add (less what their replacements free)
	// rollupAll is the sequence of the last pending roll-up of the whole
	// stream: every subject's stored messages before it will be gone.
	rollupAll uint64
}

// pendingItem is what the tail keeps of one proposal.
type pendingItem struct {
	seq     uint64
	ts      int64
	kind    EntryKind
	subject string
	id      string
	rollup  Rollup
	repl    replacement
	size    uint64
}

// replacement is what a message proposed on a subject at its
// max_msgs_per limit displaces: once applied, it takes the place of the
// subject's oldest message, so the stream gains no message, and the
// bytes of the one it removes are freed.
type replacement struct {
	ok    bool
	freed uint64 // bytes of the stored message it displaces (0: a pending one)
	next  uint64 // where the subject's next displaced stored message is looked for
}

type subjPending struct {
	last   uint64 // its last pending sequence
	all    uint64 // how many of its messages are pending
	n      uint64 // how many of those add a message (not replacements)
	cursor uint64 // the sequence after the last stored message a proposal displaces
}

// maxProposals bounds the tail: a leader has at most this many publishes
// in flight, and a proposal beyond it is refused (the publisher retries).
const maxProposals = 1 << 16

func (p *proposals) len() int { return len(p.items) - p.head }

// add records a decided entry of size bytes as proposed.
func (p *proposals) add(e *Entry, size uint64, repl replacement) {
	if p.ids == nil {
		p.ids, p.subjs = map[string]pendingItem{}, map[string]subjPending{}
	}
	it := pendingItem{seq: e.Seq, ts: e.Time, kind: e.Kind, subject: e.Subject, id: e.MsgID, rollup: e.Rollup, repl: repl, size: size}
	p.items = append(p.items, it)
	p.last, p.lmsgID = e.Seq, e.MsgID
	if e.MsgID != "" {
		p.ids[e.MsgID] = it
	}
	if e.Kind != EntryMsg {
		return
	}
	p.lastTS = e.Time // as apply, which moves the stored time on messages only
	sp := p.subjs[e.Subject]
	sp.last, sp.all = e.Seq, sp.all+1
	if repl.ok {
		sp.cursor = max(sp.cursor, repl.next)
	} else {
		sp.n++
		p.msgs++
	}
	p.subjs[e.Subject] = sp
	p.bytes += int64(size) - int64(repl.freed)
	if e.Rollup == RollupAll {
		p.rollupAll = e.Seq
	}
}

// applied drops the proposals up to seq, which the stream has now
// applied. e is the entry applied at seq (nil when seq was reached
// otherwise): one that is not what this tail proposed there means
// another leader's entries won, and the whole tail is void.
func (p *proposals) applied(seq uint64, e *Entry) {
	if p.len() == 0 {
		return
	}
	for p.head < len(p.items) && p.items[p.head].seq <= seq {
		it := p.items[p.head]
		if e != nil && it.seq == e.Seq && !it.matches(e) {
			p.reset()
			return
		}
		p.drop(it)
		p.items[p.head] = pendingItem{}
		p.head++
	}
	if p.head == len(p.items) {
		p.reset()
		return
	}
	// Reclaim the consumed prefix once it dominates the slice.
	if p.head > 1024 && p.head*2 > len(p.items) {
		p.items = append(p.items[:0], p.items[p.head:]...)
		p.head = 0
	}
}

func (it *pendingItem) matches(e *Entry) bool {
	return it.kind == e.Kind && it.ts == e.Time && it.subject == e.Subject && it.id == e.MsgID && it.rollup == e.Rollup
}

// drop forgets one proposal that is now applied (or void).
func (p *proposals) drop(it pendingItem) {
	if it.id != "" && p.ids[it.id].seq == it.seq {
		delete(p.ids, it.id)
	}
	if it.kind != EntryMsg {
		return
	}
	sp := p.subjs[it.subject]
	if !it.repl.ok {
		sp.n--
		p.msgs--
	}
	if sp.all--; sp.all == 0 {
		delete(p.subjs, it.subject)
	} else {
		p.subjs[it.subject] = sp
	}
	p.bytes -= int64(it.size) - int64(it.repl.freed)
	if p.rollupAll == it.seq {
		p.rollupAll = 0
	}
}

// reset empties the tail: the next proposal starts from the applied state.
func (p *proposals) reset() {
	clear(p.items)
	p.items, p.head = p.items[:0], 0
	p.last, p.lastTS, p.lmsgID = 0, 0, ""
	clear(p.ids)
	clear(p.subjs)
	p.msgs, p.bytes, p.rollupAll = 0, 0, 0
}

// jump records a proposed purge that moves the last sequence on to seq
// once applied: the next proposal is numbered after it. The item holds
// the place until the purge is applied (or the tail is void). lastID is
// the last message ID proposed or stored, which a purge leaves as it is.
func (p *proposals) jump(seq uint64, lastID string) {
	p.items = append(p.items, pendingItem{seq: seq, kind: EntryPurge})
	p.last, p.lmsgID = seq, lastID
}
