package subject

import (
	"errors"
	"testing"
)

func TestTransformFunctions(t *testing.T) {
	tests := []struct {
		src, dest, in, out string
	}{
		{"a.*", "x.{{splitFromLeft(1,2)}}", "a.abcdef", "x.ab.cdef"},
		{"a.*", "x.{{SplitFromLeft(1, 6)}}", "a.abcdef", "x.abcdef"}, // position at the end: whole
		{"a.*", "x.{{splitfromleft(1,0)}}", "a.abcdef", "x.abcdef"},
		{"a.*", "x.{{splitFromRight(1,2)}}", "a.abcdef", "x.abcd.ef"},
		{"a.*", "x.{{splitFromRight(1,-1)}}", "a.abcdef", "x.abcdef"},
		{"a.*", "x.{{sliceFromLeft(1,3)}}", "a.abcdefg", "x.abc.def.g"},
		{"a.*", "x.{{sliceFromLeft(1,3)}}", "a.abcdef", "x.abc.def"},
		{"a.*", "x.{{sliceFromLeft(1,7)}}", "a.abcdefg", "x.abcdefg"},
		{"a.*", "x.{{sliceFromRight(1,3)}}", "a.abcdefg", "x.a.bcd.efg"},
		{"a.*", "x.{{sliceFromRight(1,3)}}", "a.abcdef", "x.abc.def"},
		{"a.*", "x.{{sliceFromRight(1,2)}}", "a.abc", "x.a.bc"},
		{"a.*", "x.{{left(1,2)}}", "a.abcdef", "x.ab"},
		{"a.*", "x.{{left(1,10)}}", "a.abcdef", "x.abcdef"},
		{"a.*", "x.{{right(1,2)}}", "a.abcdef", "x.ef"},
		{"a.*", "x.{{Right(1,0)}}", "a.abcdef", "x.abcdef"},
		{"a.*", "x.{{split(1,-)}}", "a.-ab--cd-", "x.ab.cd"},
		{"a.*", "x.{{split(1,-)}}", "a.--ab", "x.ab"},
		{"a.*", "x.{{split(1,ab)}}", "a.1ab2ab3", "x.1.2.3"},
		{"a.*", "x.{{split(1,-)}}", "a.plain", "x.plain"},
		{"a.*", "x.{{split(1,)}}", "a.abc", "x.a.b.c"},
		{"a.*.*", "{{wildcard(2)}}.$1.{{ Wildcard( 1 ) }}", "a.b.c", "c.b.b"},
		{"a.*.>", "{{partition(10,1)}}.$1.>", "a.foo.x.y", "3.foo.x.y"},
		{"*.*", "p.{{partition(7,1,2)}}", "eu.new", "p.5"},
		{"*.*", "p.{{Partition(7, 1, 2)}}", "e.unew", "p.5"}, // tokens hashed without separators
		{"a.*", "$x.$1", "a.b", "$x.b"},                      // '$' and no number: a literal
		{"a.*", "{{}}.$1", "a.b", "{{}}.b"},                  // too short to be a function
		{"a", "b", "a", "b"},
	}
	for _, tt := range tests {
		tr, err := NewTransform(tt.src, tt.dest)
		if err != nil {
			t.Fatalf("NewTransform(%q, %q): %v", tt.src, tt.dest, err)
		}
		if got, ok := tr.Apply(tt.in); got != tt.out || !ok {
			t.Errorf("%q -> %q on %q = %q, %v; want %q", tt.src, tt.dest, tt.in, got, ok, tt.out)
		}
	}
}

// TestTransformEmptyToken: a split that leaves nothing would publish on
// a subject with an empty token; Apply reports it as not mapped.
func TestTransformEmptyToken(t *testing.T) {
	tr, err := NewTransform("a.*", "x.{{split(1,-)}}")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := tr.Apply("a.---"); ok {
		t.Fatalf("Apply(a.---) = %q, true", got)
	}
}

// TestTransformErrorTexts: the refusals read as nats-server's.
func TestTransformErrorTexts(t *testing.T) {
	const pre = "invalid mapping destination: "
	tests := []struct {
		src, dest, want string
		is              error
	}{
		{"a.*", "b.$2", pre + "wildcard index out of range in $2: [2]", ErrMappingDestinationIndexOutOfRange},
		{"a.*", "b.{{wildcard(0)}}", pre + "wildcard index out of range in {{wildcard(0)}}: [0]", ErrMappingDestinationIndexOutOfRange},
		{"a", "b.{{wildcard(1)}}", pre + "wildcard index out of range in {{wildcard(1)}}", ErrMappingDestinationIndexOutOfRange},
		{"a.>", "b.$1.>", pre + "wildcard index out of range in $1", ErrMappingDestinationIndexOutOfRange},
		{"a.*", "b.{{partition(3,1,2)}}", pre + "wildcard index out of range in {{partition(3,1,2)}}: [2]", ErrMappingDestinationIndexOutOfRange},
		{"a.*", "b.{{wildcard()}}", pre + "not enough arguments passed to the function in {{wildcard()}}", ErrMappingDestinationNotEnoughArgs},
		{"a.*", "b.{{wildcard(1,2)}}", pre + "too many arguments passed to the function in {{wildcard(1,2)}}", ErrMappingDestinationTooManyArgs},
		{"a.*", "b.{{wildcard(x)}}", pre + "function argument is invalid or in the wrong format in {{wildcard(x)}}", ErrMappingDestinationInvalidArg},
		{"a.*", "b.{{partition(3)}}", pre + "not enough arguments passed to the function in {{partition(3)}}", ErrMappingDestinationNotEnoughArgs},
		{"a.*", "b.{{partition(x,1)}}", pre + "function argument is invalid or in the wrong format in {{partition(x,1)}}", ErrMappingDestinationInvalidArg},
		{"a.*", "b.{{partition(0,1)}}", pre + "function argument is invalid or in the wrong format in {{partition(0,1)}}", ErrMappingDestinationInvalidArg},
		{"a.*", "b.{{split(1)}}", pre + "not enough arguments passed to the function in {{split(1)}}", ErrMappingDestinationNotEnoughArgs},
		{"a.*", "b.{{split(1,-,x)}}", pre + "too many arguments passed to the function in {{split(1,-,x)}}", ErrMappingDestinationTooManyArgs},
		{"a.*", "b.{{split(1,a b)}}", pre + "function argument is invalid or in the wrong format in {{split(1,a b)}}", ErrMappingDestinationInvalidArg},
		{"a.*", "b.{{splitFromLeft(1)}}", pre + "not enough arguments passed to the function in {{splitFromLeft(1)}}", ErrMappingDestinationNotEnoughArgs},
		{"a.*", "b.{{left(1,2,3)}}", pre + "too many arguments passed to the function in {{left(1,2,3)}}", ErrMappingDestinationTooManyArgs},
		{"a.*", "b.{{right(1,99999999999)}}", pre + "function argument is invalid or in the wrong format in {{right(1,99999999999)}}", ErrMappingDestinationInvalidArg},
		{"a.*", "b.{{nope(1)}}", pre + "unknown function in {{nope(1)}}", ErrUnknownMappingDestinationFunction},
		{"a.*", "b.{{WILDCARD(1)}}", pre + "unknown function in {{WILDCARD(1)}}", ErrUnknownMappingDestinationFunction},
		{"a.*", "b.{{wildcard}}", pre + "unknown function in {{wildcard}}", ErrUnknownMappingDestinationFunction},
		{"a.*", "b.*", "invalid subject", ErrBadSubject},
		{"a.*", "b.>", "invalid subject", ErrBadSubject},
		{"a.*", "b..c", "invalid subject", ErrBadSubject},
		{"a..b", "c", "invalid subject", ErrBadSubject},
		{"a.*", "b c.$1", pre + "invalid transform", ErrInvalidMappingDestinationSubject},
	}
	for _, tt := range tests {
		_, err := NewTransform(tt.src, tt.dest)
		if err == nil {
			t.Errorf("NewTransform(%q, %q) accepted", tt.src, tt.dest)
			continue
		}
		if err.Error() != tt.want || !errors.Is(err, tt.is) {
			t.Errorf("NewTransform(%q, %q) = %q; want %q", tt.src, tt.dest, err, tt.want)
		}
		if tt.is != ErrBadSubject && !errors.Is(err, ErrInvalidMappingDestination) {
			t.Errorf("NewTransform(%q, %q) = %v: not an ErrInvalidMappingDestination", tt.src, tt.dest, err)
		}
	}
}

// TestPartitionVectors: FNV-1a 32 of the tokens concatenated, modulo the
// count. The expected values were computed from the published FNV-1a
// algorithm (offset basis 2166136261, prime 16777619), not from this code.
func TestPartitionVectors(t *testing.T) {
	tests := []struct {
		toks  []string
		count int
		want  string
	}{
		{[]string{"a"}, 3, "1"},    // fnv1a32("a") = 0xe40c292c
		{[]string{"foo"}, 10, "3"}, // 0xa9f37ed7
		{[]string{"1"}, 5, "4"},
		{[]string{"2"}, 5, "1"},
		{[]string{"3"}, 5, "2"},
		{[]string{"4"}, 5, "2"},
		{[]string{"5"}, 5, "3"},
		{[]string{"6"}, 5, "0"},
		{[]string{"7"}, 5, "1"},
		{[]string{"8"}, 5, "0"},
		{[]string{"9"}, 5, "1"},
		{[]string{"10"}, 5, "2"},
		{[]string{"eu", "new"}, 7, "5"},
		{[]string{"alice"}, 2, "1"},
		{[]string{"bob"}, 2, "0"},
		{[]string{"x"}, 1, "0"},
		{[]string{"hello", "world"}, 100, "17"},
		{[]string{"abc"}, 1000, "331"},
	}
	for _, tt := range tests {
		pos := make([]int, len(tt.toks))
		for i := range pos {
			pos[i] = i
		}
		if got := partition(tt.toks, pos, tt.count); got != tt.want {
			t.Errorf("partition(%q, %d) = %s; want %s", tt.toks, tt.count, got, tt.want)
		}
	}
}

// TestMappingTransformErrors: what a mapping refuses beyond a transform.
func TestMappingTransformErrors(t *testing.T) {
	const pre = "invalid mapping destination: "
	tests := []struct{ src, dest, want string }{
		{"a.*", "", pre + "invalid transform in "},
		{"a.*", "b..c", pre + "invalid transform in "},
		{"a.>", "b.>.c", pre + "invalid transform in c"},
		{"a.*", "b.{{left(1,2)}}", pre + "unknown function in {{left(1,2)}}"},
		{"a.*", "b.{{Right(1,2)}}", pre + "unknown function in {{Right(1,2)}}"},
		{"a.*", "b.{{nope(1)}}", pre + "unknown function in {{nope(1)}}"},
		{"a.*", "b\tc.$1", pre + "invalid transform"},
		{"a.>", "b", "invalid subject"},
		{">", "b", "invalid subject"},
		{"a.*", "b.$2", pre + "wildcard index out of range in $2: [2]"},
	}
	for _, tt := range tests {
		_, err := NewMappingTransform(tt.src, tt.dest)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewMappingTransform(%q, %q) = %v; want %q", tt.src, tt.dest, err, tt.want)
		}
	}
	for _, ok := range [][2]string{{"a.>", "b.>"}, {"a.*", "b.{{split(1,-)}}"}, {"a.*.*", "$2.{{partition(3,1,2)}}"}, {"a", "b"}} {
		if _, err := NewMappingTransform(ok[0], ok[1]); err != nil {
			t.Errorf("NewMappingTransform(%q, %q): %v", ok[0], ok[1], err)
		}
	}
}
