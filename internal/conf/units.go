package conf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// sizeUnits maps a lower-cased suffix to its multiplier: a bare letter is
// a power of 1000, the letter followed by "b", "i" or "ib" a power of 1024.
var sizeUnits = func() map[string]int64 {
	u := map[string]int64{"": 1}
	dec, bin := int64(1), int64(1)
	for _, c := range "kmgtpe" {
		dec *= 1000
		bin *= 1024
		s := string(c)
		u[s] = dec
		u[s+"b"], u[s+"i"], u[s+"ib"] = bin, bin, bin
	}
	return u
}()

// ParseSize converts an integer with an optional unit suffix the way
// nats-server's config parser converts an unquoted number such as
// "max_payload: 8MB": K, M, G, T, P and E multiply by powers of 1000, and
// KB, KI, KIB (MB, MI, MIB, ...) by powers of 1024, in any letter case.
// "1m" is therefore one million, not a minute.
//
// nats-server silently drops a key whose suffix is not in that list (such
// as "1kbb") and lets a product wrap around int64; both are errors here.
func ParseSize(s string) (int64, error) {
	i := 0
	if strings.HasPrefix(s, "-") {
		i++
	}
	digits := i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == digits {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("integer %s is out of range", s)
		}
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	mult, ok := sizeUnits[strings.ToLower(s[i:])]
	if !ok && strings.ContainsFunc(s[i:], func(r rune) bool { return !unicode.IsLetter(r) || r > unicode.MaxASCII }) {
		return 0, fmt.Errorf("invalid integer %q", s)
	}
	if !ok {
		return 0, fmt.Errorf("invalid integer %q: unknown unit %q (use K, KB, KiB, M, MB, MiB, ... E, EB, EiB)", s, s[i:])
	}
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, fmt.Errorf("integer %s is out of range", s)
	}
	return n * mult, nil
}

// ParseStorageSize converts a quoted size the way nats-server's JetStream
// options (max_memory_store, max_file_store) do: an integer followed by
// exactly one of K, M, G or T, upper case, each a power of 1024. So the
// quoted "1K" is 1024 while the unquoted 1K is 1000, and "1KB" or "100"
// are errors. The empty string is 0.
func ParseStorageSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	var shift uint
	switch s[len(s)-1] {
	case 'K':
		shift = 10
	case 'M':
		shift = 20
	case 'G':
		shift = 30
	case 'T':
		shift = 40
	default:
		return 0, fmt.Errorf("invalid size %q: sizes given as strings must end in K, M, G or T", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	if n > math.MaxInt64>>shift || n < math.MinInt64>>shift {
		return 0, fmt.Errorf("size %q is out of range", s)
	}
	return n << shift, nil
}

// StorageSize returns an Int as is and converts a String with
// ParseStorageSize, as nats-server does for JetStream storage limits.
func (v *Value) StorageSize() (int64, error) {
	switch v.Kind {
	case KindInt:
		return v.num, nil
	case KindString:
		n, err := ParseStorageSize(v.str)
		if err != nil {
			return 0, v.Pos.Errorf("%v", err)
		}
		return n, nil
	}
	return 0, v.Pos.Errorf("expected a size (integer or string), got %s", v.Kind)
}

// Duration converts a value the way nats-server reads duration options
// (ping_interval, write_deadline, lame-duck and many others): a String
// goes through time.ParseDuration ("2s", "1m30s", "500ms"), an Int is a
// number of seconds. nats-server warns about the Int form ("should be
// converted to a duration"); callers can check v.Kind == KindInt to do the
// same. Beware that an unquoted 1m is the integer 1000000 and so lasts
// 1000000 seconds; nats-server behaves the same. Floats are rejected, as
// nats-server does (it fails on them).
func (v *Value) Duration() (time.Duration, error) {
	switch v.Kind {
	case KindString:
		d, err := time.ParseDuration(v.str)
		if err != nil {
			return 0, v.Pos.Errorf("invalid duration %q: %v", v.str, err)
		}
		return d, nil
	case KindInt:
		if v.num > math.MaxInt64/int64(time.Second) || v.num < math.MinInt64/int64(time.Second) {
			return 0, v.Pos.Errorf("duration of %d seconds is out of range", v.num)
		}
		return time.Duration(v.num) * time.Second, nil
	}
	return 0, v.Pos.Errorf("expected a duration such as \"2s\", got %s", v.Kind)
}

// Seconds converts a timeout the way nats-server reads the timeout of an
// authorization block (and of leafnode authorization): an Int or Float is
// a number of seconds, a String a duration ("2s", "500ms").
func (v *Value) Seconds() (float64, error) {
	switch v.Kind {
	case KindInt:
		return float64(v.num), nil
	case KindFloat:
		return v.flt, nil
	case KindString:
		d, err := time.ParseDuration(v.str)
		if err != nil {
			return 0, v.Pos.Errorf("invalid duration %q: %v", v.str, err)
		}
		return d.Seconds(), nil
	}
	return 0, v.Pos.Errorf("expected a number of seconds or a duration, got %s", v.Kind)
}
