package auth

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       *Permissions
		wantErr string // substring; "" for valid
	}{
		{"nil", nil, ""},
		{"empty", &Permissions{}, ""},
		{"wildcards", &Permissions{
			Publish:   &SubjectPermission{Allow: []string{"foo.*", ">"}, Deny: []string{"foo.>"}},
			Subscribe: &SubjectPermission{Allow: []string{"*.bar"}, Deny: []string{">"}},
		}, ""},
		{"queue entries", &Permissions{Subscribe: &SubjectPermission{
			Allow: []string{"foo v1", "bar.* v1.*"}, Deny: []string{"foo  v2"},
		}}, ""},
		{"publish queue entry", &Permissions{Publish: &SubjectPermission{Allow: []string{"foo v1"}}},
			`publish allow: "foo v1" is not a valid subject`},
		{"publish deny empty token", &Permissions{Publish: &SubjectPermission{Deny: []string{"foo..bar"}}},
			`publish deny: "foo..bar"`},
		{"publish fwc not last", &Permissions{Publish: &SubjectPermission{Allow: []string{"foo.>.bar"}}},
			"publish allow"},
		{"publish empty", &Permissions{Publish: &SubjectPermission{Allow: []string{""}}}, "publish allow"},
		{"subscribe bad subject", &Permissions{Subscribe: &SubjectPermission{Allow: []string{".foo"}}},
			`subscribe allow: ".foo" is neither`},
		{"subscribe bad queue", &Permissions{Subscribe: &SubjectPermission{Deny: []string{"foo bar..baz"}}},
			`subscribe deny: "foo bar..baz"`},
		{"subscribe three fields", &Permissions{Subscribe: &SubjectPermission{Allow: []string{"a b c"}}},
			"subscribe allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	tests := []struct {
		name string
		in   *Permissions
		want *Permissions
	}{
		{"nil", nil, nil},
		{"no responses untouched",
			&Permissions{Subscribe: &SubjectPermission{Allow: []string{"a"}}},
			&Permissions{Subscribe: &SubjectPermission{Allow: []string{"a"}}}},
		{"responses alone close publishing",
			&Permissions{Response: &ResponsePermission{}},
			&Permissions{
				Publish:  &SubjectPermission{Allow: []string{}},
				Response: &ResponsePermission{MaxMsgs: 1, Expires: 2 * time.Minute},
			}},
		{"responses keep an allow list and deny",
			&Permissions{
				Publish:  &SubjectPermission{Allow: []string{"a"}, Deny: []string{"b"}},
				Response: &ResponsePermission{MaxMsgs: 5, Expires: time.Second},
			},
			&Permissions{
				Publish:  &SubjectPermission{Allow: []string{"a"}, Deny: []string{"b"}},
				Response: &ResponsePermission{MaxMsgs: 5, Expires: time.Second},
			}},
		{"responses with deny only",
			&Permissions{
				Publish:  &SubjectPermission{Deny: []string{"b"}},
				Response: &ResponsePermission{MaxMsgs: -1, Expires: -1},
			},
			&Permissions{
				Publish:  &SubjectPermission{Allow: []string{}, Deny: []string{"b"}},
				Response: &ResponsePermission{MaxMsgs: -1, Expires: -1},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.effective()
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("effective() = %+v, want %+v", got, tt.want)
			}
			if got != nil && !reflect.DeepEqual(got.effective(), got) {
				t.Fatal("effective is not idempotent")
			}
		})
	}

	// The input is copied, not modified.
	in := &Permissions{Response: &ResponsePermission{}}
	in.effective()
	if in.Publish != nil || in.Response.MaxMsgs != 0 {
		t.Fatalf("effective modified its input: %+v", in)
	}
}

func TestViolationTexts(t *testing.T) {
	tests := []struct{ got, want string }{
		{PublishViolation("foo.bar"), `Permissions Violation for Publish to "foo.bar"`},
		{PublishViolation(`a"b`), `Permissions Violation for Publish to "a\"b"`},
		{SubscribeViolation("foo.*", ""), `Permissions Violation for Subscription to "foo.*"`},
		{SubscribeViolation("foo", "q1"), `Permissions Violation for Subscription to "foo" using queue "q1"`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
