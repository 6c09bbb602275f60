package mapping

import (
	"testing"

	"github.com/starling-mq/starling/internal/subject"
)

// FuzzMapping: any mapping either is refused or maps any subject without
// panicking, to a valid subject, the subject itself, or nothing.
func FuzzMapping(f *testing.F) {
	f.Add("orders.*.*", "shop.$2.{{partition(4,1,2)}}", "b.{{split(1,-)}}", 60, 30, "orders.e-u.new", uint32(7))
	f.Add("a.>", "b.>", "c.>", 100, 0, "a.x.y", uint32(1<<31))
	f.Add("a.*", "{{sliceFromRight(1,2)}}", "a.$1", 10, 10, "a.abcde", uint32(1<<32-1))
	f.Add("a", "a", "b", 20, 20, "a", uint32(3<<30))
	f.Fuzz(func(t *testing.T, src, d1, d2 string, w1, w2 int, subj string, draw uint32) {
		m, err := New("c", []Entry{{Source: src, Destinations: []Destination{
			{Subject: d1, Weight: w1},
			{Subject: d2, Weight: w2, Cluster: "c"},
		}}})
		if err != nil {
			return
		}
		out, ok := m.Map(subj, func() uint32 { return draw })
		switch {
		case !ok && out != subj:
			t.Fatalf("unmapped %q came back as %q", subj, out)
		case ok && out != "" && subject.ValidLiteral(subj) && !subject.ValidLiteral(out):
			t.Fatalf("%q mapped to invalid %q", subj, out)
		}
	})
}
