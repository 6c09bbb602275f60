package store

import "slices"

// SeqAtTime returns the first sequence stored at or after ts (unix
// nanoseconds): LastSeq+1 when every message is older. Stores keep
// messages in time order, so it is a binary search over sequences.
func SeqAtTime(st Store, ts int64) uint64 {
	s := st.State()
	lo, hi := max(s.FirstSeq, 1), s.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		msg, err := st.LoadNext(">", mid)
		if err != nil || msg.Seq >= hi {
			hi = mid
			continue
		}
		if msg.Time < ts {
			lo = msg.Seq + 1
		} else {
			hi = mid
		}
	}
	// lo may sit in a run of deleted sequences: name the message after it.
	if msg, err := st.LoadNext(">", lo); err == nil {
		return msg.Seq
	}
	return lo
}

// LastSeqs returns, in ascending order, the sequence of the last message
// at or below upTo on every subject matching one of filters. It reports
// false when more than limit subjects qualify.
func LastSeqs(st Store, filters []string, upTo uint64, limit int) ([]uint64, bool) {
	seen := map[uint64]struct{}{}
	for _, f := range filters {
		for subj, ss := range st.SubjectsState(f) {
			seq := ss.Last
			if seq > upTo {
				if ss.First > upTo {
					continue // nothing on this subject yet at upTo
				}
				msg, err := st.LoadPrev(subj, upTo)
				if err != nil {
					continue
				}
				seq = msg.Seq
			}
			seen[seq] = struct{}{}
			if len(seen) > limit {
				return nil, false
			}
		}
	}
	out := make([]uint64, 0, len(seen))
	for seq := range seen {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out, true
}
