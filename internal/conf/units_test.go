package conf

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"4222", 4222, ""},
		{"-12", -12, ""},
		{"1k", 1000, ""},
		{"1K", 1000, ""},
		{"1kb", 1024, ""},
		{"1KB", 1024, ""},
		{"1Ki", 1024, ""},
		{"1KiB", 1024, ""},
		{"1kIb", 1024, ""},
		{"64m", 64e6, ""},
		{"64MB", 64 << 20, ""},
		{"2g", 2e9, ""},
		{"2GiB", 2 << 30, ""},
		{"3t", 3e12, ""},
		{"3TB", 3 << 40, ""},
		{"5p", 5e15, ""},
		{"5PB", 5 << 50, ""},
		{"7e", 7e18, ""},
		{"7EB", 7 << 60, ""},
		{"-1MB", -1 << 20, ""},
		{"9223372036854775807", math.MaxInt64, ""},
		{"-9223372036854775808", math.MinInt64, ""},
		{"9223372036854775808", 0, "out of range"},
		{"8EB", 0, "out of range"},
		{"10e", 0, "out of range"},
		{"1kbb", 0, `unknown unit "kbb"`},
		{"1x", 0, `unknown unit "x"`},
		{"1 k", 0, "invalid integer"},
		{"", 0, "invalid integer"},
		{"-", 0, "invalid integer"},
		{"k", 0, "invalid integer"},
		{"+1", 0, "invalid integer"},
	}
	for _, tc := range cases {
		got, err := ParseSize(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSize(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseStorageSize(t *testing.T) {
	cases := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"", 0, ""},
		{"1K", 1024, ""}, // unlike the unquoted 1K, which is 1000
		{"512M", 512 << 20, ""},
		{"10G", 10 << 30, ""},
		{"2T", 2 << 40, ""},
		{"-1G", -1 << 30, ""},
		{"1k", 0, "must end in K, M, G or T"},
		{"1KB", 0, "must end in K, M, G or T"},
		{"100", 0, "must end in K, M, G or T"},
		{"G", 0, "invalid size"},
		{"1.5G", 0, "invalid size"},
		{"9000000T", 0, "out of range"},
	}
	for _, tc := range cases {
		got, err := ParseStorageSize(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseStorageSize(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseStorageSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// valueOf parses "v = <text>" and returns the value.
func valueOf(t *testing.T, text string) *Value {
	t.Helper()
	root, err := parseMem("v = "+text, nil, nil)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	v, _ := root.Get("v")
	return v
}

func TestValueConversions(t *testing.T) {
	type conv struct {
		name string
		fn   func(*Value) (any, error)
	}
	duration := conv{"Duration", func(v *Value) (any, error) { return v.Duration() }}
	seconds := conv{"Seconds", func(v *Value) (any, error) { return v.Seconds() }}
	storage := conv{"StorageSize", func(v *Value) (any, error) { return v.StorageSize() }}

	cases := []struct {
		conv    conv
		text    string
		want    any
		wantErr string
	}{
		{duration, `"2s"`, 2 * time.Second, ""},
		{duration, `'1m30s'`, 90 * time.Second, ""},
		{duration, `500ms`, 500 * time.Millisecond, ""}, // unquoted, still a string
		{duration, `2h`, 2 * time.Hour, ""},
		{duration, `20`, 20 * time.Second, ""}, // legacy: seconds
		{duration, `1m`, 1000000 * time.Second, ""},
		{duration, `1.5`, nil, "test.conf:1:5: expected a duration"},
		{duration, `"soon"`, nil, `test.conf:1:5: invalid duration "soon"`},
		{duration, `9223372036854775807`, nil, "out of range"},
		{seconds, `2`, 2.0, ""},
		{seconds, `0.5`, 0.5, ""},
		{seconds, `"1500ms"`, 1.5, ""},
		{seconds, `true`, nil, "test.conf:1:5: expected a number of seconds or a duration, got boolean"},
		{storage, `1GB`, int64(1 << 30), ""},
		{storage, `1G`, int64(1e9), ""},
		{storage, `"1G"`, int64(1 << 30), ""},
		{storage, `"1GB"`, nil, `test.conf:1:5: invalid size "1GB"`},
		{storage, `1.5`, nil, "expected a size"},
	}
	for _, tc := range cases {
		got, err := tc.conv.fn(valueOf(t, tc.text))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s(%s) = %v, %v; want error containing %q", tc.conv.name, tc.text, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s(%s) = %v, %v; want %v", tc.conv.name, tc.text, got, err, tc.want)
		}
	}
}
