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
// message still stored. The check errs towards accepting, and every
// replica applies whatever was decided, so the replicas still agree.
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
	msgs   uint64
	bytes  uint64
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
	size    uint64
	rollup  Rollup
}

type subjPending struct {
	last uint64 // its last pending sequence
	n    uint64 // how many are pending
}

// maxProposals bounds the tail: a leader has at most this many publishes
// in flight, and a proposal beyond it is refused (the publisher retries).
const maxProposals = 1 << 16

func (p *proposals) len() int { return len(p.items) - p.head }

// add records a decided entry of size bytes as proposed.
func (p *proposals) add(e *Entry, size uint64) {
	if p.ids == nil {
		p.ids, p.subjs = map[string]pendingItem{}, map[string]subjPending{}
	}
	it := pendingItem{seq: e.Seq, ts: e.Time, kind: e.Kind, subject: e.Subject, id: e.MsgID, size: size, rollup: e.Rollup}
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
	p.subjs[e.Subject] = subjPending{last: e.Seq, n: sp.n + 1}
	p.msgs++
	p.bytes += size
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
	if sp.n <= 1 {
		delete(p.subjs, it.subject)
	} else {
		sp.n--
		p.subjs[it.subject] = sp
	}
	p.msgs--
	p.bytes -= it.size
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
