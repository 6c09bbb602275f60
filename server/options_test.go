package server

import (
	"testing"

	"github.com/starling-mq/starling/internal/options/optionstest"
)

// TestOptionsConvert: every field of the public Options reaches the
// engine's, nested users and permissions included, and the engine's has no
// field an embedder cannot set.
func TestOptionsConvert(t *testing.T) {
	var o Options
	optionstest.Fill(&o)
	in := o.internal()
	for _, d := range optionstest.Diff(&o, &in) {
		t.Error(d)
	}
}

// TestOptionsConvertCopies: a running server keeps its own copy of the
// permission lists, so the embedder's later changes cannot reach it; and an
// empty allow list stays empty (for publishing it means "nothing", unlike
// nil).
func TestOptionsConvertCopies(t *testing.T) {
	o := Options{Users: []*User{{Username: "a", Permissions: &Permissions{
		Publish: &SubjectPermission{Allow: []string{}}, Subscribe: &SubjectPermission{Allow: []string{"x"}},
	}}}, Nkeys: []*NkeyUser{nil}}
	in := o.internal()
	o.Users[0].Permissions.Subscribe.Allow[0] = "changed"
	p := in.Users[0].Permissions
	if p.Subscribe.Allow[0] != "x" {
		t.Error("the engine's permissions share the caller's slice")
	}
	if p.Publish.Allow == nil || len(p.Publish.Allow) != 0 || p.Publish.Deny != nil {
		t.Errorf("publish allow: %#v", p.Publish)
	}
	if len(in.Nkeys) != 0 {
		t.Errorf("a nil nkey user became %v", in.Nkeys)
	}
}
