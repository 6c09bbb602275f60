package msgtrace

import (
	"bytes"
	"strings"
)

// Header names. A publisher sets Dest (and optionally Only); Hop and
// OriginAccount are what servers add for each other when a traced message
// crosses routes, gateways or leaf nodes.
const (
	HeaderDest            = "Nats-Trace-Dest"
	HeaderOnly            = "Nats-Trace-Only"
	HeaderHop             = "Nats-Trace-Hop"
	HeaderOriginAccount   = "Nats-Trace-Origin-Account"
	HeaderTraceParent     = "traceparent" // W3C trace context, written in lower case
	HeaderAcceptEncoding  = "Accept-Encoding"
	HeaderContentEncoding = "Content-Encoding"
)

// headerLine starts every header block that can carry a trace request; a
// block with a status on its first line is never traced.
const headerLine = "NATS/1.0\r\n"

// Found says which trace headers a header block holds.
type Found uint8

const (
	// FoundDest: a Nats-Trace-Dest key, in any case.
	FoundDest Found = 1 << iota
	// FoundSampledParent: a traceparent whose flags say "sampled".
	FoundSampledParent
)

// Traceable reports whether Start can trace the message: only with a
// destination header, since a sampled traceparent alone needs an account
// trace destination and Starling has no accounts to configure one.
func (f Found) Traceable() bool { return f&FoundDest != 0 }

// Scan looks for trace headers in a header block without allocating. It
// is the only work done for a message with headers that is not traced, so
// it walks the lines as forEachHeader does but only compares the keys of
// the two lengths that matter.
//
// Like nats-server, it rewrites a traceparent key that is not in lower
// case to lower case, in place: receivers see "traceparent" whatever the
// publisher wrote.
func Scan(hdr []byte) Found {
	if len(hdr) < len(headerLine) || string(hdr[:len(headerLine)]) != headerLine {
		return 0
	}
	var f Found
	for i := len(headerLine); i < len(hdr); {
		del := bytes.IndexByte(hdr[i:], ':')
		if del < 0 {
			break
		}
		key := hdr[i : i+del]
		i += del + 1
		nl := indexCRLF(hdr[i:])
		if nl < 0 {
			break
		}
		switch len(key) {
		case len(HeaderDest):
			if equalFold(key, HeaderDest) {
				f |= FoundDest
			}
		case len(HeaderTraceParent):
			if equalFold(key, HeaderTraceParent) {
				copy(key, HeaderTraceParent)
				if f&FoundSampledParent == 0 && sampled(trim(hdr[i:i+nl])) {
					f |= FoundSampledParent
				}
			}
		}
		i += nl + 2
	}
	return f
}

var crlf = []byte("\r\n")

// indexCRLF is bytes.Index(b, crlf), quicker for the short lines of a
// header block: a CR is almost always followed by its LF.
func indexCRLF(b []byte) int {
	for off := 0; ; {
		j := bytes.IndexByte(b[off:], '\r')
		if j < 0 {
			return -1
		}
		off += j
		if off+1 < len(b) && b[off+1] == '\n' {
			return off
		}
		off++
	}
}

// trim removes the spaces and tabs around a header value.
func trim(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// forEachHeader calls fn with each key and value (value trimmed of spaces
// and tabs) of a header block. It follows nats-server's reading exactly,
// quirks included: a key runs to the next colon, even across a line
// without one, and the walk stops at the first line it cannot split.
func forEachHeader(hdr []byte, fn func(key, val []byte)) {
	if !bytes.HasPrefix(hdr, []byte(headerLine)) {
		return
	}
	for i := len(headerLine); i < len(hdr); {
		del := bytes.IndexByte(hdr[i:], ':')
		if del < 0 {
			return
		}
		key := hdr[i : i+del]
		i += del + 1
		nl := indexCRLF(hdr[i:])
		if nl < 0 {
			return
		}
		if len(key) > 0 {
			fn(key, trim(hdr[i:i+nl]))
		}
		i += nl + 2
	}
}

// equalFold compares ASCII case-insensitively without converting.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// sampled reports whether a traceparent value
// (version-traceid-parentid-flags) has the sampled flag set. The flags
// are read as nats-server reads them: as a signed 8-bit hexadecimal
// number, so "ff" is not sampled and "+1" is.
func sampled(val []byte) bool {
	if bytes.Count(val, []byte("-")) != 3 {
		return false
	}
	flags := val[bytes.LastIndexByte(val, '-')+1:]
	if len(flags) != 2 {
		return false
	}
	if flags[0] == '+' {
		d, ok := hexDigit(flags[1])
		return ok && d&1 == 1
	}
	hi, ok1 := hexDigit(flags[0])
	lo, ok2 := hexDigit(flags[1])
	return ok1 && ok2 && hi < 8 && lo&1 == 1
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10, true
	}
	return 0, false
}

// headerMap returns every header of the block by name, names as written
// (traceparent already lowered by Scan), values in order.
func headerMap(hdr []byte) map[string][]string {
	m := map[string][]string{}
	forEachHeader(hdr, func(key, val []byte) {
		m[string(key)] = append(m[string(key)], string(val))
	})
	return m
}

// first returns the first value of an exact header name, or "".
func first(m map[string][]string, name string) string {
	if v := m[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// traceOnlyValue reports whether a Nats-Trace-Only value asks for tracing
// without delivery. Anything else, "yes" included, means deliver.
func traceOnlyValue(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "on":
		return true
	}
	return false
}

// Value returns the value of the exact header name in buf, which may be a
// header block cut short (the start of a message too large to read). As
// in nats-server, only the first "name:" counts, and only if it starts a
// line; the value runs to the end of its line, or of buf.
func Value(buf []byte, name string) string {
	k := bytes.Index(buf, []byte(name+":"))
	if k < 2 || buf[k-1] != '\n' || buf[k-2] != '\r' {
		return ""
	}
	v := bytes.TrimLeft(buf[k+len(name)+1:], " ")
	if nl := bytes.Index(v, []byte("\r\n")); nl >= 0 {
		v = v[:nl]
	}
	return string(v)
}

// DisableHeaders renames the first Nats-Trace-Dest and traceparent lines
// of a header block to start with 'X', in place, so that a copy of the
// message (the one a stream stores) never starts a trace again when it is
// delivered or republished. As in nats-server, only exact-case keys at the
// start of a line are changed.
func DisableHeaders(hdr []byte) {
	for _, key := range []string{HeaderDest, HeaderTraceParent} {
		pos := bytes.Index(hdr, []byte(key))
		if pos < 2 || hdr[pos-1] != '\n' || hdr[pos-2] != '\r' {
			continue
		}
		if end := pos + len(key); end >= len(hdr) || hdr[end] != ':' {
			continue
		}
		hdr[pos] = 'X'
	}
}

// Encoding is how an event is compressed, chosen by the traced message's
// Accept-Encoding header.
type Encoding uint8

const (
	EncodingNone        Encoding = iota // no Accept-Encoding
	EncodingSnappy                      // "snappy" or "s2": framed snappy
	EncodingGzip                        // "gzip"
	EncodingUnsupported                 // anything else: sent as is, marked "identity"
)

// ParseEncoding reads an Accept-Encoding value as nats-server does.
func ParseEncoding(v string) Encoding {
	if v == "" {
		return EncodingNone
	}
	v = strings.ToLower(v)
	switch {
	case strings.Contains(v, "snappy"), strings.Contains(v, "s2"):
		return EncodingSnappy
	case strings.Contains(v, "gzip"):
		return EncodingGzip
	}
	return EncodingUnsupported
}
