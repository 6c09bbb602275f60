package raftnode

import (
	"encoding/binary"
	"errors"
)

// The data of every normal entry the host proposes starts with a header:
// one version byte, then the proposal id (8 bytes, big endian). The id lets
// the proposer recognise its own entry when the entry shows up in a Ready,
// so it learns the index the entry took; the (index, term) pair then
// decides the outcome (see doc.go). Entries with no data are the empty
// entries a new leader appends; they carry no header.
const (
	entryVersion   = 1
	entryHeaderLen = 1 + 8
)

var errBadEntry = errors.New("raftnode: malformed entry data")

// encodeEntry returns the entry data for a proposal.
func encodeEntry(id uint64, payload []byte) []byte {
	b := make([]byte, entryHeaderLen+len(payload))
	b[0] = entryVersion
	binary.BigEndian.PutUint64(b[1:], id)
	copy(b[entryHeaderLen:], payload)
	return b
}

// decodeEntry splits entry data into proposal id and payload; the payload
// aliases data.
func decodeEntry(data []byte) (id uint64, payload []byte, err error) {
	if len(data) < entryHeaderLen || data[0] != entryVersion {
		return 0, nil, errBadEntry
	}
	return binary.BigEndian.Uint64(data[1:]), data[entryHeaderLen:], nil
}
