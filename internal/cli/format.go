package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Pure text helpers shared by the commands and the bench report.

// commaInt formats n with thousands separators: 1456749 -> "1,456,749".
func commaInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// commaFloat rounds f to the nearest integer and formats it with commas.
func commaFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return commaInt(int64(math.Round(f)))
}

// humanBytes formats a byte count (or a rate) in IEC units, the same in
// every command: whole bytes below 1 KiB ("0 B", "512 B"), otherwise
// two decimals of the largest power of 1024 that keeps the number at
// least 1 ("2.86 MiB" for 3,000,000 bytes). The unit always says "i":
// a KiB is 1024 bytes, and the label must not suggest 1000.
func humanBytes(b float64) string {
	const unit = 1024.0
	if b < 0 || math.IsNaN(b) || math.IsInf(b, 0) {
		return fmt.Sprint(b) + " B" // not a size; shown as it is, not dressed up
	}
	if math.Round(b) < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	labels := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	// Divide at least once (b rounds to 1 KiB or more), then while the
	// number would still print as 1024.00 or more.
	for i < 0 || (b >= unit-0.005 && i < len(labels)-1) { // bounded by len(labels)
		b /= unit
		i++
	}
	return fmt.Sprintf("%.2f %s", b, labels[i])
}

// sizeUnits are powers of 1024 whether or not the unit says "i", matching
// the nats CLI (so --size 1KB means 1024 bytes in both tools).
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
	"M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
	"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
}

// parseSize reads a byte size such as "128", "16B", "1KB", "1KiB" or "4mb".
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes such as 128, 16B, 1KiB or 1MiB", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	mult, ok := sizeUnits[strings.ToUpper(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unit must be B, K, KB, KiB, M, MB, MiB, G, GB or GiB", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n * mult, nil
}

// micros converts a duration to fractional microseconds for reports.
func micros(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e3
}

// percent is done/want as a percentage, 100 when nothing is wanted.
func percent(done, want int64) float64 {
	if want <= 0 {
		return 100
	}
	return 100 * float64(done) / float64(want)
}

// plural is "1 chunk", "0 chunks", "2,048 chunks".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return commaInt(n) + " " + noun + "s"
}

// trimLines drops the spaces a table pads an empty last column with.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}
