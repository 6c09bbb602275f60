package stream

import (
	"errors"

	"github.com/starling-mq/starling/internal/store"
)

// SeedEntries returns, one by one, entries that rebuild the stream as it
// is: one per stored message, at its sequence, and a skip at the last
// sequence when the newest messages are gone. A stream held by one server
// that becomes replicated proposes them first in its new group, so that
// a member joining with an empty log replays the messages stored before
// the group existed (sequences below the first message and deleted ones
// become skipped sequences there, as ApplyEntry leaves a gap). The
// stream must take no writes while they are read; next returns nil at
// the end.
func (s *Stream) SeedEntries() (next func() ([]byte, error)) {
	last := s.st.State().LastSeq
	seq, done := uint64(1), false
	return func() ([]byte, error) {
		if done {
			return nil, nil
		}
		m, err := s.st.LoadNext("", seq)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && m.Seq > last):
			done = true
			if seq <= last {
				return EncodeEntry(&Entry{Kind: EntrySkip, Seq: last}), nil
			}
			return nil, nil
		case err != nil:
			return nil, err
		}
		seq = m.Seq + 1
		id, _ := headerValue(m.Header, hdrMsgID)
		return EncodeEntry(&Entry{Kind: EntryMsg, Seq: m.Seq, Time: m.Time, Subject: m.Subject,
			Header: m.Header, Data: m.Data, MsgID: id, TTL: m.TTL}), nil
	}
}
