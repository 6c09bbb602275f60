package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// A stream's configuration lives in <stream dir>/meta (layout.go) as one
// line with the CRC-32C of the JSON that follows it, so a torn or damaged
// file is detected instead of half-read. It is replaced atomically: write
// a temporary file, sync it, rename it over, sync the directory.

const (
	streamsDir = "streams"
	metaFile   = "meta"
	msgsDir    = "msgs"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// streamMeta is what is persisted for a stream besides its messages.
type streamMeta struct {
	Config  jsapi.StreamConfig `json:"config"`
	Created time.Time          `json:"created"`
}

func encodeMeta(m *streamMeta) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return sealBody(body), nil
}

// sealBody prefixes body with the line holding its CRC-32C.
func sealBody(body []byte) []byte {
	out := fmt.Appendf(nil, "%08x\n", crc32.Checksum(body, castagnoli))
	return append(out, body...)
}

var errMetaCorrupt = errors.New("stream metadata checksum mismatch")

// unsealBody checks and strips the checksum line.
func unsealBody(b []byte) ([]byte, error) {
	if len(b) < 9 || b[8] != '\n' {
		return nil, errMetaCorrupt
	}
	body := b[9:]
	// Compared as written (lower-case hex), so no damaged byte passes.
	if string(b[:8]) != fmt.Sprintf("%08x", crc32.Checksum(body, castagnoli)) {
		return nil, errMetaCorrupt
	}
	return body, nil
}

func decodeMeta(b []byte) (*streamMeta, error) {
	body, err := unsealBody(b)
	if err != nil {
		return nil, err
	}
	var m streamMeta
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("stream metadata: %w", err)
	}
	return &m, nil
}
