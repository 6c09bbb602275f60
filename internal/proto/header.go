package proto

import (
	"bytes"
	"strconv"
)

// Message headers, as clients write them: a version line, "Key: Value"
// lines and a blank line, all ending in CRLF:
//
//	NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n
//
// Status messages put a code and description after the version:
// "NATS/1.0 503\r\n\r\n".

// HeaderPrefix starts every header block.
const HeaderPrefix = "NATS/1.0"

// HeaderValue returns the first value of key in a header block, and
// whether it was there. Keys match case-insensitively, as clients treat
// them (nats.go canonicalizes, other clients may not). The value has
// surrounding spaces removed.
func HeaderValue(hdr []byte, key string) (string, bool) {
	if !bytes.HasPrefix(hdr, []byte(HeaderPrefix)) {
		return "", false
	}
	i := bytes.Index(hdr, []byte("\r\n"))
	if i < 0 {
		return "", false
	}
	rest := hdr[i+2:]
	for len(rest) > 0 {
		j := bytes.Index(rest, []byte("\r\n"))
		if j <= 0 {
			return "", false // blank line: end of headers (or malformed)
		}
		line := rest[:j]
		rest = rest[j+2:]
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte(key)) {
			continue
		}
		return string(bytes.TrimSpace(v)), true
	}
	return "", false
}

// HeaderStatus returns the status code of a status header block
// ("NATS/1.0 503" gives 503), or 0 when there is none.
func HeaderStatus(hdr []byte) int {
	if !bytes.HasPrefix(hdr, []byte(HeaderPrefix+" ")) {
		return 0
	}
	line := hdr[len(HeaderPrefix)+1:]
	if i := bytes.IndexAny(line, " \r"); i >= 0 {
		line = line[:i]
	}
	n, err := strconv.Atoi(string(line))
	if err != nil {
		return 0
	}
	return n
}

// HeaderBuilder builds header blocks for server-originated messages.
type HeaderBuilder struct{ b []byte }

// NewHeader starts a header block; status and description, when status is
// not 0, go on the version line ("NATS/1.0 404 Message Not Found").
func NewHeader(status int, description string) *HeaderBuilder {
	h := &HeaderBuilder{b: append(make([]byte, 0, 128), HeaderPrefix...)}
	if status != 0 {
		h.b = append(h.b, ' ')
		h.b = strconv.AppendInt(h.b, int64(status), 10)
		if description != "" {
			h.b = append(h.b, ' ')
			h.b = append(h.b, description...)
		}
	}
	h.b = append(h.b, '\r', '\n')
	return h
}

// Add appends one "Key: Value" line.
func (h *HeaderBuilder) Add(key, value string) *HeaderBuilder {
	h.b = append(h.b, key...)
	h.b = append(h.b, ": "...)
	h.b = append(h.b, value...)
	h.b = append(h.b, '\r', '\n')
	return h
}

// Bytes ends the block and returns it.
func (h *HeaderBuilder) Bytes() []byte {
	return append(h.b, '\r', '\n')
}

// RemoveHeader returns hdr without the lines for key, or nil if nothing
// but the version line would be left (so a message without other headers
// becomes a plain message again).
func RemoveHeader(hdr []byte, key string) []byte {
	i := bytes.Index(hdr, []byte("\r\n"))
	if i < 0 || !bytes.HasPrefix(hdr, []byte(HeaderPrefix)) {
		return hdr
	}
	out := append([]byte(nil), hdr[:i+2]...)
	kept := 0
	rest := hdr[i+2:]
	for len(rest) > 0 {
		j := bytes.Index(rest, []byte("\r\n"))
		if j <= 0 {
			break
		}
		line := rest[:j]
		rest = rest[j+2:]
		if k, _, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(key)) {
			continue
		}
		out = append(append(out, line...), '\r', '\n')
		kept++
	}
	if kept == 0 && bytes.Equal(hdr[:i], []byte(HeaderPrefix)) {
		return nil
	}
	return append(out, '\r', '\n')
}
