package monitor

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// uptime formats d as nats-server does: whole seconds, starting at the
// largest non-zero unit ("37s", "5m0s", "2d3h0m0s", "1y2d0h0m0s").
func uptime(d time.Duration) string {
	secs := int64(d / time.Second)
	const (
		minute = 60
		hour   = 60 * minute
		day    = 24 * hour
		year   = 365 * day
	)
	y, secs := secs/year, secs%year
	dd, secs := secs/day, secs%day
	h, secs := secs/hour, secs%hour
	m, s := secs/minute, secs%minute
	switch {
	case y > 0:
		return fmt.Sprintf("%dy%dd%dh%dm%ds", y, dd, h, m, s)
	case dd > 0:
		return fmt.Sprintf("%dd%dh%dm%ds", dd, h, m, s)
	case h > 0:
		return fmt.Sprintf("%dh%dm%ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// rtt formats a round trip the way /connz shows it: microseconds when
// under a millisecond, full precision otherwise.
func rtt(d time.Duration) string {
	if d > time.Microsecond && d < time.Millisecond {
		d = d.Truncate(time.Microsecond)
	}
	return d.String()
}

// The query parsers below word their errors as nats-server does, since
// scripts match on them.

func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("Error decoding boolean for '%s': %v", name, err)
	}
	return b, nil
}

func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("Error decoding int for '%s': %v", name, err)
	}
	return n, nil
}

func queryUint(r *http.Request, name string) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("Error decoding uint64 for '%s': %v", name, err)
	}
	return n, nil
}

// querySubs reads subs=: false, true (1), or "detail".
func querySubs(r *http.Request) (subs, detail bool, err error) {
	v := r.URL.Query().Get("subs")
	if strings.EqualFold(v, "detail") {
		return true, true, nil
	}
	subs, err = queryBool(r, "subs")
	return subs, false, err
}

// page clamps offset and limit and returns the bounds of the page in a
// list of n items.
func page(offset, limit, n, defLimit int) (off, lim, lo, hi int) {
	if offset < 0 {
		offset = 0
	}
	if limit <= 0 {
		limit = defLimit
	}
	lo = min(offset, n)
	hi = lo + min(limit, n-lo)
	return offset, limit, lo, hi
}
