package servercmd

import (
	"testing"

	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/options/optionstest"
)

// TestServerOptions: every option the file and flags set reaches the
// public server.Options (which server converts back; its own test checks
// that direction).
func TestServerOptions(t *testing.T) {
	var o options.Options
	optionstest.Fill(&o)
	for _, d := range optionstest.Diff(&o, serverOptions(&o)) {
		t.Error(d)
	}
}
