package snapshot

import (
	"encoding/binary"
	"sort"
	"time"
)

// ConsumerState is a consumer's delivery state in nats-server's terms
// (obs/<name>/o.dat).
type ConsumerState struct {
	// Delivered is the last delivery: consumer and stream sequence.
	Delivered SequencePair
	// AckFloor: everything up to it is acknowledged.
	AckFloor SequencePair
	// Pending are deliveries awaiting an ack, by stream sequence.
	Pending map[uint64]Pending
	// Redelivered counts, by stream sequence, deliveries after the first
	// (a message delivered three times has 2).
	Redelivered map[uint64]uint64
}

// SequencePair is a consumer and a stream sequence.
type SequencePair struct {
	Consumer, Stream uint64
}

// Pending is one delivery awaiting an ack.
type Pending struct {
	Consumer uint64 // its consumer sequence
	Time     int64  // when it was delivered, unix nanoseconds (kept to the second)
}

const consumerStateVersion = 2

// EncodeConsumerState encodes st as nats-server does (version 2); now is
// the base its pending times are stored against. Entries are written in
// stream order so the encoding is deterministic.
func EncodeConsumerState(st *ConsumerState, now time.Time) []byte {
	b := []byte{blockIndexMagic, consumerStateVersion}
	b = binary.AppendUvarint(b, st.AckFloor.Consumer)
	b = binary.AppendUvarint(b, st.AckFloor.Stream)
	b = binary.AppendUvarint(b, st.Delivered.Consumer)
	b = binary.AppendUvarint(b, st.Delivered.Stream)
	b = binary.AppendUvarint(b, uint64(len(st.Pending)))
	if len(st.Pending) > 0 {
		base := now.Round(time.Second).Unix()
		b = binary.AppendVarint(b, base)
		for _, seq := range sortedKeys(st.Pending) {
			p := st.Pending[seq]
			b = binary.AppendUvarint(b, seq-st.AckFloor.Stream)
			b = binary.AppendUvarint(b, p.Consumer-st.AckFloor.Consumer)
			b = binary.AppendVarint(b, base-p.Time/int64(time.Second))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(st.Redelivered)))
	for _, seq := range sortedKeys(st.Redelivered) {
		b = binary.AppendUvarint(b, seq-st.AckFloor.Stream)
		b = binary.AppendUvarint(b, st.Redelivered[seq])
	}
	return b
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// DecodeConsumerState decodes an o.dat of version 1 or 2.
func DecodeConsumerState(b []byte) (*ConsumerState, error) {
	if len(b) < 2 || b[0] != blockIndexMagic || (b[1] != 1 && b[1] != 2) {
		return nil, corrupt("consumer state has unknown magic or version")
	}
	version := b[1]
	v := &varints{b: b, off: 2}
	st := &ConsumerState{}
	st.AckFloor.Consumer, st.AckFloor.Stream = v.u64(), v.u64()
	st.Delivered.Consumer, st.Delivered.Stream = v.u64(), v.u64()
	if v.bad {
		return nil, corrupt("consumer state truncated")
	}
	if version == 1 {
		// Version 1 stored the next sequences to deliver, relative to the
		// floor.
		if st.AckFloor.Consumer > 1 {
			st.Delivered.Consumer += st.AckFloor.Consumer - 1
		}
		if st.AckFloor.Stream > 1 {
			st.Delivered.Stream += st.AckFloor.Stream - 1
		}
	}
	const high = 1 << 63 // a sequence this large means the state ran backwards
	if st.AckFloor.Stream&high != 0 || st.Delivered.Stream&high != 0 {
		return nil, corrupt("consumer state has impossible sequences")
	}
	if n := v.u64(); n > 0 {
		if n > uint64(len(b)) { // each entry takes bytes
			return nil, corrupt("consumer state claims %d pending", n)
		}
		base := v.i64()
		st.Pending = make(map[uint64]Pending, n)
		for ; n > 0; n-- {
			sseq := v.u64()
			var dseq uint64
			if version == 2 {
				dseq = v.u64()
			}
			ts := v.i64()
			if v.bad {
				return nil, corrupt("consumer state pending list truncated")
			}
			sseq += st.AckFloor.Stream
			if sseq == 0 {
				return nil, corrupt("consumer state has pending sequence 0")
			}
			if version == 2 {
				dseq += st.AckFloor.Consumer
				ts = (base - ts) * int64(time.Second)
			} else {
				ts = (ts + base) * int64(time.Second)
			}
			st.Pending[sseq] = Pending{Consumer: dseq, Time: ts}
		}
	}
	if n := v.u64(); n > 0 {
		if n > uint64(len(b)) {
			return nil, corrupt("consumer state claims %d redelivered", n)
		}
		st.Redelivered = make(map[uint64]uint64, n)
		for ; n > 0; n-- {
			seq, count := v.u64(), v.u64()
			if v.bad {
				return nil, corrupt("consumer state redelivered list truncated")
			}
			if seq > 0 && count > 0 {
				st.Redelivered[seq+st.AckFloor.Stream] = count
			}
		}
	}
	if v.bad {
		return nil, corrupt("consumer state truncated")
	}
	return st, nil
}
