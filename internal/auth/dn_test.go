package auth

import (
	"reflect"
	"testing"
)

func TestParseDN(t *testing.T) {
	tests := []struct {
		in   string
		want dn // nil: an error
	}{
		{"CN=alice", dn{{{"CN", "alice"}}}},
		{"CN=alice,OU=eng,O=Acme", dn{{{"CN", "alice"}}, {{"OU", "eng"}}, {{"O", "Acme"}}}},
		{" CN = alice , O = Acme Inc ", dn{{{"CN", "alice"}}, {{"O", "Acme Inc"}}}},
		{"CN=a+OU=b,O=c", dn{{{"CN", "a"}, {"OU", "b"}}, {{"O", "c"}}}},
		{`CN=Smith\, John,O=Acme`, dn{{{"CN", "Smith, John"}}, {{"O", "Acme"}}}},
		{`CN=\ padded\ `, dn{{{"CN", " padded "}}}},
		{`CN=caf\C3\A9`, dn{{{"CN", "café"}}}},
		{`CN=a=b`, dn{{{"CN", "a=b"}}}},
		{"CN=", dn{{{"CN", ""}}}},
		{"alice", nil},
		{"alice@example.com", nil},
		{"", nil},
		{"CN=a,", nil},
		{"=a", nil},
		{`CN=#04024869`, nil},
		{`CN=a\`, nil},
		{`CN=a\4`, nil},
		{`CN=a\zz`, nil},
	}
	for _, tt := range tests {
		got, err := parseDN(tt.in)
		if tt.want == nil {
			if err == nil {
				t.Errorf("parseDN(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseDN(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestDNCompare(t *testing.T) {
	tests := []struct {
		a, b         string
		equal, rdnEq bool
	}{
		{"CN=a,O=b", "CN=a,O=b", true, true},
		{"CN=a,O=b", "cn=a,o=b", true, true}, // types ignore case
		{"CN=a,O=b", "CN=A,O=b", false, false},
		{"CN=a,O=b", "O=b,CN=a", false, true},
		{"CN=a+OU=x,O=b", "OU=x+CN=a,O=b", true, true},
		{"CN=a,O=b", "CN=a,O=b,C=US", false, false},
		{"CN=a,OU=x,OU=x", "OU=x,CN=a,OU=y", false, false},
	}
	for _, tt := range tests {
		a, err := parseDN(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseDN(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if a.equal(b) != tt.equal || a.sameRDNs(b) != tt.rdnEq {
			t.Errorf("%q vs %q: equal %v sameRDNs %v, want %v %v", tt.a, tt.b, a.equal(b), a.sameRDNs(b), tt.equal, tt.rdnEq)
		}
	}
}
