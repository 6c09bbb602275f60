package interest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestTranscripts drives a Tracker with a script of "+subj [queue]" and
// "-subj [queue]" lines and compares the events it reports, one line per
// step ("-" for none).
func TestTranscripts(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   string
	}{
		{"plain first and last only", "+a +a -a -a", "+a/1 - - -a"},
		{"subjects independent", "+a +b -a -b", "+a/1 +b/1 -a -b"},
		{"queue weight on every change", "+a:q +a:q +a:q -a:q -a:q -a:q", "+a:q/1 +a:q/2 +a:q/3 +a:q/2 +a:q/1 -a:q"},
		{"queue and plain apart", "+a +a:q -a +a:q", "+a/1 +a:q/1 -a +a:q/2"},
		{"two groups on one subject", "+a:q +a:r -a:q", "+a:q/1 +a:r/1 -a:q"},
		{"remove unknown", "-a -a:q +a -a -a", "- - +a/1 -a -"},
		{"wildcards are subjects like any", "+a.* +a.> -a.*", "+a.*/1 +a.>/1 -a.*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr Tracker
			var got []string
			for _, step := range strings.Fields(tt.script) {
				subj, queue, _ := strings.Cut(step[1:], ":")
				var ev Event
				var ok bool
				if step[0] == '+' {
					ev, ok = tr.Add(subj, queue)
				} else {
					ev, ok = tr.Remove(subj, queue)
				}
				got = append(got, render(ev, ok))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Fatalf("events\n got  %s\n want %s", g, tt.want)
			}
		})
	}
}

func render(ev Event, ok bool) string {
	if !ok {
		return "-"
	}
	name := ev.Subject
	if ev.Queue != "" {
		name += ":" + ev.Queue
	}
	if ev.Removed {
		if ev.Weight != 0 {
			return "BAD" // Removed events carry no weight
		}
		return "-" + name
	}
	return fmt.Sprintf("+%s/%d", name, ev.Weight)
}

func TestSnapshot(t *testing.T) {
	var tr Tracker
	for _, s := range []string{"b", "a:q", "a", "a:q", "b", "c"} {
		subj, queue, _ := strings.Cut(s, ":")
		tr.Add(subj, queue)
	}
	tr.Remove("c", "")
	want := []Event{
		{Subject: "a", Weight: 1},
		{Subject: "a", Queue: "q", Weight: 2},
		{Subject: "b", Weight: 1},
	}
	if got := tr.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshot %+v, want %+v", got, want)
	}
	if tr.Len() != 3 {
		t.Fatalf("Len %d", tr.Len())
	}
}
