package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Building and printing messages: the parts pub, sub, req and reply share.
// Nothing here does I/O; printing returns bytes for the caller to write in
// one call, so concurrent output never interleaves mid-message.

// splitHeader splits a -H argument "key:value" at the first colon and trims
// the spaces around both parts, as the nats CLI does.
func splitHeader(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("invalid header %q: want key:value", s)
	}
	return k, strings.TrimSpace(v), nil
}

// buildHeader turns -H arguments into a header, expanding {{Count}} in the
// values. Repeating a key adds values, so -H a:1 -H a:2 sends both.
func buildHeader(hdrs []string, count int) (nats.Header, error) {
	if len(hdrs) == 0 {
		return nil, nil
	}
	h := nats.Header{}
	for _, s := range hdrs {
		k, v, err := splitHeader(s)
		if err != nil {
			return nil, err
		}
		h.Add(k, expandCount(v, count))
	}
	return h, nil
}

// expandCount replaces {{Count}} (also written {{ Count }}) with n, the
// 1-based message number, the one template function of the nats CLI that
// scripts rely on most. Other {{...}} text is left as it is.
func expandCount(s string, n int) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	num := strconv.Itoa(n)
	// Each iteration consumes at least two bytes of s, so the loop ends.
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		inner := s[i+2 : i+2+j]
		if strings.TrimSpace(inner) == "Count" {
			b.WriteString(num)
		} else {
			b.WriteString(s[i : i+4+j])
		}
		s = s[i+4+j:]
	}
	b.WriteString(s)
	return b.String()
}

// printOpts selects how much of a message formatMsg shows.
type printOpts struct {
	raw         bool // payload only
	headersOnly bool // title and headers, no payload
}

// formatMsg renders a message the way `nats sub` does:
//
//	[#1] Received on "orders.new" with reply "_INBOX.x"
//	Key: value
//
//	payload
//
// Header keys are sorted so output is stable from run to run.
func formatMsg(title string, m *nats.Msg, o printOpts) []byte {
	var b bytes.Buffer
	if o.raw {
		b.Write(m.Data)
		b.WriteByte('\n')
		return b.Bytes()
	}
	b.WriteString(title)
	b.WriteByte('\n')
	if len(m.Header) > 0 {
		keys := make([]string, 0, len(m.Header))
		for k := range m.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, v := range m.Header[k] {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		b.WriteByte('\n')
	}
	if !o.headersOnly {
		b.Write(m.Data)
		if !bytes.HasSuffix(m.Data, []byte("\n")) {
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// receivedTitle is the first line printed for a delivered message.
func receivedTitle(n int, m *nats.Msg) string {
	if m.Reply != "" {
		return fmt.Sprintf("[#%d] Received on %q with reply %q", n, m.Subject, m.Reply)
	}
	return fmt.Sprintf("[#%d] Received on %q", n, m.Subject)
}

// replyTitle is the first line printed for a reply to a request.
func replyTitle(n int, rtt time.Duration) string {
	return fmt.Sprintf("[#%d] Received reply with rtt %v", n, rtt.Round(time.Microsecond))
}
