package subject

import "testing"

func TestTransform(t *testing.T) {
	tests := []struct {
		src, dest, in, out string
		ok                 bool
	}{
		{"orders.*.*", "shop.{{wildcard(2)}}.{{wildcard(1)}}", "orders.eu.new", "shop.new.eu", true},
		{"orders.*.*", "shop.$2.$1", "orders.eu.new", "shop.new.eu", true},
		{"orders.*", "x.{{ wildcard( 1 ) }}", "orders.a", "x.a", true},
		{"orders.>", "archive.>", "orders.a.b.c", "archive.a.b.c", true},
		{"orders.>", "archive.>", "orders", "", false},
		{"orders.*", "x.$1", "other.a", "", false},
		{"orders.*", "x.$1", "orders.a.b", "", false},
		{"", "copy.>", "a.b", "copy.a.b", true},
		{"a.*", "", "a.b", "a.b", true},
	}
	for _, tt := range tests {
		tr, err := NewTransform(tt.src, tt.dest)
		if err != nil {
			t.Fatalf("NewTransform(%q, %q): %v", tt.src, tt.dest, err)
		}
		got, ok := tr.Apply(tt.in)
		if got != tt.out || ok != tt.ok {
			t.Errorf("%q -> %q on %q = %q, %v; want %q, %v", tt.src, tt.dest, tt.in, got, ok, tt.out, tt.ok)
		}
	}
}

func TestTransformErrors(t *testing.T) {
	for _, tc := range [][2]string{
		{"a.*", "b.$2"},
		{"a.*", "b.{{partition(3,2)}}"},
		{"a.*", "b.>"},
		{"a.>", "b.>.c"},
		{"a..b", "c"},
		{"a.*", "b..c"},
		{"a.*", "b.{{wildcard(x)}}"},
		{"a.*", "b.*"},
	} {
		if _, err := NewTransform(tc[0], tc[1]); err == nil {
			t.Errorf("NewTransform(%q, %q) accepted", tc[0], tc[1])
		}
	}
}

// FuzzTransform: any source, destination and subject either fail to
// compile or apply without panicking, to a valid subject when they match.
func FuzzTransform(f *testing.F) {
	f.Add("orders.*.*", "shop.{{wildcard(2)}}.$1", "orders.eu.new")
	f.Add("a.>", "b.>", "a.b.c")
	f.Add("", "copy.>", "x")
	f.Add("a.*", "{{partition(3,1)}}", "a.b")
	f.Add("a.*.*", "{{split(1,-)}}.{{sliceFromRight(2,3)}}.$2", "a.-x--y.abcdefg")
	f.Add("a.*", "{{splitFromLeft(1,2)}}.{{right(1,1)}}.{{left(1,9)}}", "a.abc")
	f.Add("a.*", "{{split(1,)}}", "a.héllo")
	f.Fuzz(func(t *testing.T, src, dest, subj string) {
		tr, err := NewTransform(src, dest)
		if err != nil {
			return
		}
		out, ok := tr.Apply(subj)
		if ok && ValidLiteral(subj) && !Valid(out) {
			t.Fatalf("%q -> %q applied to %q gave invalid %q", src, dest, subj, out)
		}
	})
}
