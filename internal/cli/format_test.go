package cli

import (
	"math"
	"testing"
)

func TestCommaInt(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {12345, "12,345"},
		{1456749, "1,456,749"}, {100000, "100,000"}, {-1, "-1"}, {-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
	}
	for _, tc := range tests {
		if got := commaInt(tc.n); got != tc.want {
			t.Errorf("commaInt(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestCommaFloat(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {1456749.4, "1,456,749"}, {1456749.5, "1,456,750"}, {math.NaN(), "0"}, {math.Inf(1), "0"},
	}
	for _, tc := range tests {
		if got := commaFloat(tc.f); got != tc.want {
			t.Errorf("commaFloat(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		b    float64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1023.6, "1.00 KiB"}, // would round to 1024 B
		{1024, "1.00 KiB"},
		{1536, "1.50 KiB"},
		{3_000_000, "2.86 MiB"},
		{1456749 * 16, "22.23 MiB"},
		{1024*1024 - 1, "1.00 MiB"}, // not 1024.00 KiB
		{3 << 30, "3.00 GiB"},
		{1 << 70, "1024.00 EiB"},
		{1 << 62, "4.00 EiB"},
	}
	for _, tc := range tests {
		if got := humanBytes(tc.b); got != tc.want {
			t.Errorf("humanBytes(%v) = %q, want %q", tc.b, got, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"128", 128, true},
		{"16B", 16, true},
		{"16b", 16, true},
		{"1K", 1024, true},
		{"1KB", 1024, true},
		{"1KiB", 1024, true},
		{"1kib", 1024, true},
		{"4MB", 4 << 20, true},
		{"4 MiB", 4 << 20, true},
		{"2GB", 2 << 30, true},
		{" 64 ", 64, true},
		{"", 0, false},
		{"KB", 0, false},
		{"-1", 0, false},
		{"1.5KB", 0, false},
		{"1XB", 0, false},
		{"1TB", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999999GB", 0, false},
	}
	for _, tc := range tests {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestPercent(t *testing.T) {
	if got := percent(1, 4); got != 25 {
		t.Errorf("percent(1,4) = %v", got)
	}
	if got := percent(0, 0); got != 100 {
		t.Errorf("percent(0,0) = %v", got)
	}
}
