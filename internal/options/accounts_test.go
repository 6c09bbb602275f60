package options

import (
	"errors"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/auth"
)

func stream(account, subject string) *ImportSource {
	return &ImportSource{Account: account, Subject: subject}
}
func service(account, subject string) *ImportSource {
	return &ImportSource{Account: account, Subject: subject}
}

// TestValidateAccounts applies nats-server's rules, with its texts.
func TestValidateAccounts(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		want     string // "" = valid
		position string // for an AccountError: "account item index"
	}{
		{"none", Options{}, "", ""},
		{"one empty account", Options{Accounts: []AccountOptions{{Name: "A"}}}, "", ""},
		{"reserved", Options{Accounts: []AccountOptions{{Name: "$G"}}}, `"$G" is a Reserved Account`, ""},
		{"duplicate", Options{Accounts: []AccountOptions{{Name: "A"}, {Name: "A"}}}, "Duplicate Account Entry: A", ""},
		{"no name", Options{Accounts: []AccountOptions{{}}}, "account 1 has no name", ""},
		{"system account defined", Options{Accounts: []AccountOptions{{Name: "SYS"}}, SystemAccount: "SYS"}, "", ""},
		{"$SYS need not be defined", Options{Accounts: []AccountOptions{{Name: "A"}}, SystemAccount: "$SYS"}, "", ""},
		{"system account unknown", Options{SystemAccount: "SYS"}, `error resolving system account: account "SYS" is not defined`, ""},
		{"user of an unknown account", Options{Users: []*auth.User{{Username: "u", Account: "B"}}},
			`user "u": account "B" is not defined`, ""},
		{"user in two accounts", Options{Accounts: []AccountOptions{{Name: "A"}, {Name: "B"}},
			Users: []*auth.User{{Username: "u", Account: "A"}, {Username: "u", Account: "B"}}}, `Duplicate user "u" detected`, ""},
		{"user in an account and the global one", Options{Accounts: []AccountOptions{{Name: "A"}},
			Users: []*auth.User{{Username: "u"}, {Username: "u", Account: "A"}}}, `Duplicate user "u" detected`, ""},
		{"nkey in two accounts", Options{Accounts: []AccountOptions{{Name: "A"}, {Name: "B"}},
			Nkeys: []*auth.NkeyUser{{Nkey: "U1", Account: "A"}, {Nkey: "U1", Account: "B"}}}, `Duplicate nkey "U1" detected`, ""},
		{"single user and accounts", Options{Username: "x", Accounts: []AccountOptions{{Name: "A"}},
			Users: []*auth.User{{Username: "u", Account: "A"}}}, "Can not have a single user/pass and accounts", ""},
		{"token and accounts", Options{Authorization: "t", Accounts: []AccountOptions{{Name: "A"}},
			Users: []*auth.User{{Username: "u", Account: "A"}}}, "Can not have a token and accounts", ""},
		{"bad default permissions", Options{Accounts: []AccountOptions{{Name: "A",
			DefaultPermissions: &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"a..b"}}}}}},
			`account "A" default_permissions`, ""},
		{"jetstream limit below -1", Options{Accounts: []AccountOptions{{Name: "A", JetStream: &AccountJetStream{MaxMemory: -2}}}},
			"jetstream limits must be -1", ""},

		// Exports.
		{"export both kinds", Options{Accounts: []AccountOptions{{Name: "A", Exports: []Export{{Stream: "s", Service: "v"}}}}},
			"an export is a stream or a service", "A export 0"},
		{"export invalid subject", Options{Accounts: []AccountOptions{{Name: "A", Exports: []Export{{Service: "a..b"}}}}},
			`Error adding service export "a..b": invalid subject`, "A export 0"},
		{"export to an unknown account", Options{Accounts: []AccountOptions{{Name: "A", Exports: []Export{{Stream: "s", Accounts: []string{"B"}}}}}},
			`"B" account not defined for stream export`, "A export 0"},
		{"response type on a stream", Options{Accounts: []AccountOptions{{Name: "A", Exports: []Export{{Stream: "s", ResponseType: ResponseStream}}}}},
			"Detected response directive on non-service", "A export 0"},
		{"unknown response type", Options{Accounts: []AccountOptions{{Name: "A", Exports: []Export{{Service: "s", ResponseType: "many"}}}}},
			`Unknown response type: "many"`, "A export 0"},
		{"allow_trace on a stream export", Options{Accounts: []AccountOptions{{Name: "A", Exports: []Export{{Stream: "s", AllowTrace: true}}}}},
			"Detected allow_trace directive on non-service", "A export 0"},

		// Imports.
		{"stream import", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "orders.>"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "orders.new"), Prefix: "a"}}},
		}}, "", ""},
		{"wildcard stream import mapped", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "orders.*"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "orders.*"), To: "mine.*"}}},
		}}, "", ""},
		{"restricted export admits the account", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "q.>", Accounts: []string{"B"}}}},
			{Name: "B", Imports: []Import{{Service: service("A", "q.x")}}},
		}}, "", ""},
		{"import from an unknown account", Options{Accounts: []AccountOptions{{Name: "A", Imports: []Import{{Stream: stream("B", "s")}}}}},
			`"B" account not defined for stream import`, "A import 0"},
		{"service import from an unknown account", Options{Accounts: []AccountOptions{{Name: "A", Imports: []Import{{Service: service("B", "s")}}}}},
			`"B" account not defined for service import`, "A import 0"},
		{"import both kinds", Options{Accounts: []AccountOptions{{Name: "A", Imports: []Import{{Stream: stream("A", "s"), Service: service("A", "s")}}}}},
			"an import is a stream or a service", "A import 0"},
		{"import without a subject", Options{Accounts: []AccountOptions{{Name: "A", Imports: []Import{{Stream: stream("A", "")}}}}},
			"Expect an account name and a subject", "A import 0"},
		{"stream not exported", Options{Accounts: []AccountOptions{{Name: "A"}, {Name: "B", Imports: []Import{{Stream: stream("A", "s")}}}}},
			`Error adding stream import "s": stream import not authorized`, "B import 0"},
		{"export narrower than the import", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "orders.new"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "orders.*")}}},
		}}, "stream import not authorized", "B import 0"},
		{"export restricted to another account", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "s", Accounts: []string{"C"}}}},
			{Name: "B", Imports: []Import{{Service: service("A", "s")}}}, {Name: "C"},
		}}, `Error adding service import "s": service import not authorized`, "B import 0"},
		{"empty accounts list admits nobody", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "s", Accounts: []string{}}}},
			{Name: "B", Imports: []Import{{Service: service("A", "s")}}},
		}}, "service import not authorized", "B import 0"},
		{"prefix and to", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "s"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "s"), Prefix: "p", To: "t"}}},
		}}, "Stream import can not have a 'prefix' and a 'to' property", "B import 0"},
		{"wildcard prefix", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "s"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "s"), Prefix: "p.>"}}},
		}}, "stream import prefix can not contain wildcard tokens", "B import 0"},
		{"duplicate stream import", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "s"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "s")}, {Stream: stream("A", "s"), Prefix: "p"}}},
		}}, "stream import already exists", "B import 1"},
		{"share on a stream import", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "s"}}},
			{Name: "B", Imports: []Import{{Stream: stream("A", "s"), Share: true}}},
		}}, "share applies to service imports only", "B import 0"},
		{"allow_trace on a service import", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "s"}}},
			{Name: "B", Imports: []Import{{Service: service("A", "s"), AllowTrace: true}}},
		}}, "Detected allow_trace directive on a non-stream", "B import 0"},
		{"service import to an invalid subject", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "s"}}},
			{Name: "B", Imports: []Import{{Service: service("A", "s"), To: "a..b"}}},
		}}, `Error adding service import "s": invalid subject`, "B import 0"},
		{"duplicate service import subject", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "a"}, {Service: "b"}}},
			{Name: "B", Imports: []Import{{Service: service("A", "a"), To: "x"}, {Service: service("A", "b"), To: "x"}}},
		}}, `Duplicate service import subject "x", previously used in import for account "A", subject "a"`, "B import 1"},
		{"service import cycle", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "a"}}, Imports: []Import{{Service: service("B", "b"), To: "a"}}},
			{Name: "B", Exports: []Export{{Service: "b"}}, Imports: []Import{{Service: service("A", "a"), To: "b"}}},
		}}, `Error adding service import "a": import forms a cycle`, "B import 0"},
		{"service import cycle through three accounts", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "x"}}, Imports: []Import{{Service: service("B", "x")}}},
			{Name: "B", Exports: []Export{{Service: "x"}}, Imports: []Import{{Service: service("C", "x")}}},
			{Name: "C", Exports: []Export{{Service: "x"}}, Imports: []Import{{Service: service("A", "x")}}},
		}}, "import forms a cycle", "C import 0"},
		// nats-server 2.11 compares the local subject with the subjects
		// the other accounts import, so a loop that renames at every step
		// passes its check; Starling's check is the same.
		{"renaming service loop through three accounts", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "a"}}, Imports: []Import{{Service: service("B", "b"), To: "a"}}},
			{Name: "B", Exports: []Export{{Service: "b"}}, Imports: []Import{{Service: service("C", "c"), To: "b"}}},
			{Name: "C", Exports: []Export{{Service: "c"}}, Imports: []Import{{Service: service("A", "a"), To: "c"}}},
		}}, "", ""},
		{"service chain without a cycle", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Service: "a"}}},
			{Name: "B", Exports: []Export{{Service: "b"}}, Imports: []Import{{Service: service("A", "a"), To: "b"}}},
			{Name: "C", Imports: []Import{{Service: service("B", "b"), To: "c"}}},
		}}, "", ""},
		{"stream import cycle", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "s.>"}}, Imports: []Import{{Stream: stream("B", "s.>")}}},
			{Name: "B", Exports: []Export{{Stream: "s.>"}}, Imports: []Import{{Stream: stream("A", "s.>")}}},
		}}, `Error adding stream import "s.>": import forms a cycle`, "B import 0"},
		{"stream imports both ways on different subjects", Options{Accounts: []AccountOptions{
			{Name: "A", Exports: []Export{{Stream: "a.>"}}, Imports: []Import{{Stream: stream("B", "b.>")}}},
			{Name: "B", Exports: []Export{{Stream: "b.>"}}, Imports: []Import{{Stream: stream("A", "a.>")}}},
		}}, "", ""},

		// Mappings.
		{"mapping", Options{Mappings: []Mapping{{Subject: "a.*", Destinations: []MapDest{{Subject: "b.{{wildcard(1)}}", Weight: 50}, {Subject: "c.$1", Weight: 50}}}}}, "", ""},
		{"mapping bad source", Options{Mappings: []Mapping{{Subject: "a..b", Destinations: []MapDest{{Subject: "c", Weight: 100}}}}},
			`Subject "a..b" is not a valid subject`, "$G mapping 0"},
		{"mapping weights over 100", Options{Mappings: []Mapping{{Subject: "a", Destinations: []MapDest{{Subject: "b", Weight: 60}, {Subject: "c", Weight: 41}}}}},
			`Error adding mapping for "a" : total weight needs to be <= 100`, "$G mapping 0"},
		{"mapping duplicate destination", Options{Mappings: []Mapping{{Subject: "a", Destinations: []MapDest{{Subject: "b", Weight: 10}, {Subject: "b", Weight: 10}}}}},
			`duplicate entry for "b"`, "$G mapping 0"},
		{"mapping wildcard out of range", Options{Accounts: []AccountOptions{{Name: "A", Mappings: []Mapping{{Subject: "a.*", Destinations: []MapDest{{Subject: "b.$2", Weight: 100}}}}}}},
			`Error adding mapping for "a.*" to "b.$2" : invalid mapping destination: wildcard index out of range`, "A mapping 0"},
		{"mapping without destinations", Options{Mappings: []Mapping{{Subject: "a"}}}, "no destination", "$G mapping 0"},
		{"cluster-scoped mapping", Options{Mappings: []Mapping{{Subject: "a", Destinations: []MapDest{{Subject: "b", Weight: 100, Cluster: "east"}}}}},
			"cluster-scoped mapping destinations are not implemented by Starling", "$G mapping 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.opts.ValidateAccounts()
			err := errors.Join(errs...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want == "":
				return
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if tt.position == "" {
				return
			}
			var ae *AccountError
			if !errors.As(err, &ae) {
				t.Fatalf("%v is not an AccountError", err)
			}
			if got := ae.Account + " " + ae.Item + " " + string(rune('0'+ae.Index)); got != tt.position {
				t.Errorf("error at %q, want %q", got, tt.position)
			}
		})
	}
}

// TestJetStreamAccounts: the global account runs JetStream alone unless
// other accounts are configured; then only those that enable it do, and
// the system account may not.
func TestJetStreamAccounts(t *testing.T) {
	lim := &AccountJetStream{MaxMemory: 1, MaxStore: 2, MaxStreams: 3, MaxConsumers: 4}
	tests := []struct {
		name string
		o    Options
		want []string
		err  error
	}{
		{"off", Options{Accounts: []AccountOptions{{Name: "A", JetStream: lim}}}, nil, nil},
		{"no accounts", Options{JetStream: true}, []string{"$G"}, nil},
		{"system account only", Options{JetStream: true, Accounts: []AccountOptions{{Name: "SYS"}}, SystemAccount: "SYS"}, []string{"$G"}, nil},
		{"accounts", Options{JetStream: true, Accounts: []AccountOptions{{Name: "A", JetStream: lim}, {Name: "B"}}}, []string{"A"}, nil},
		{"none enabled", Options{JetStream: true, Accounts: []AccountOptions{{Name: "B"}}}, []string{}, nil},
		{"system account", Options{JetStream: true, Accounts: []AccountOptions{{Name: "SYS", JetStream: lim}}, SystemAccount: "SYS"}, nil, ErrSystemAccountJetStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.SetDefaults()
			if err := tt.o.Validate(); !errors.Is(err, tt.err) {
				t.Fatalf("Validate: %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			got := tt.o.JetStreamAccounts()
			if tt.want == nil {
				if got != nil {
					t.Fatalf("JetStreamAccounts: %v, want nil", got)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("JetStreamAccounts: %v, want %v", got, tt.want)
			}
			for _, n := range tt.want {
				if got[n] == nil {
					t.Fatalf("JetStreamAccounts: %v, want %v", got, tt.want)
				}
			}
			if a := got["A"]; a != nil && *a != *lim {
				t.Fatalf("A's limits %+v", a)
			}
		})
	}
}

func TestSystemAccountDefault(t *testing.T) {
	o := Options{Accounts: []AccountOptions{{Name: "A"}}}
	o.SetDefaults()
	if o.SystemAccount != DefaultSystemAccount {
		t.Errorf("system account %q, want $SYS", o.SystemAccount)
	}
	o = Options{}
	o.SetDefaults()
	if o.SystemAccount != "" {
		t.Errorf("without accounts the system account is %q", o.SystemAccount)
	}
}

func TestAuthConfigAccountPermissions(t *testing.T) {
	p := &auth.Permissions{}
	o := Options{Accounts: []AccountOptions{{Name: "A", DefaultPermissions: p}, {Name: "B"}}}
	got := o.AuthConfig().AccountPermissions
	if len(got) != 1 || got["A"] != p {
		t.Errorf("account permissions %v", got)
	}
	if (&Options{}).AuthConfig().AccountPermissions != nil {
		t.Error("account permissions without accounts")
	}
}

func TestSubjectRelations(t *testing.T) {
	subset := []struct {
		sub, test string
		want      bool
	}{
		{"foo.*", ">", true}, {"foo.*", "*.*", true}, {"foo.*", "foo.*", true}, {"foo.*", "foo.bar", false},
		{"foo.bar", "foo.*", true}, {"foo.>", "foo.*", false}, {"foo", "foo.>", false}, {"foo.a.b", "foo.>", true},
	}
	for _, tt := range subset {
		if got := isSubsetMatch(tt.sub, tt.test); got != tt.want {
			t.Errorf("isSubsetMatch(%q, %q) = %v", tt.sub, tt.test, got)
		}
	}
	collide := []struct {
		a, b string
		want bool
	}{
		{"a", "a", true}, {"a", "b", false}, {"a.*", "a.b", true}, {"a.*", "*.b", true}, {"a.*", "b.*", false},
		{"a.>", "*.b.c", true}, {"a.*", "a.b.c", false}, {"a.*.c", "a.>", true}, {"a.*", "a.*.*", false},
	}
	for _, tt := range collide {
		if got := subjectsCollide(tt.a, tt.b); got != tt.want {
			t.Errorf("subjectsCollide(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	for in, want := range map[string]string{"a.$1.b": "a.*.b", "a.{{wildcard(2)}}": "a.*", "a.{{ Wildcard( 1 ) }}": "a.*", "a.$x": "a.$x", "a.{{split(1)}}": "a.{{split(1)}}"} {
		if got := untokenize(in); got != want {
			t.Errorf("untokenize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := tokenize("p.*.x.*"); got != "p.$1.x.$2" {
		t.Errorf("tokenize: %q", got)
	}
}
