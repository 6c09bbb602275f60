package jetstream

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/vfs"
)

// TestMigrateLayout covers what migrateLayout takes for an earlier streams
// directory and what it leaves alone, on a memory file system.
func TestMigrateLayout(t *testing.T) {
	const sd = "/sd"
	tests := []struct {
		name    string
		files   []string // created, relative to sd
		moved   int
		want    []string // must exist afterwards, relative to sd
		gone    []string // must not
		wantErr string
	}{
		{"empty store", nil, 0, nil, nil, ""},
		{"explicit store_dir", []string{"streams/A/meta", "streams/A/msgs/1.seg", "streams/B/meta"}, 2,
			[]string{"jetstream/$G/streams/A/meta", "jetstream/$G/streams/A/msgs/1.seg", "jetstream/$G/streams/B/meta"}, []string{"streams"}, ""},
		{"earlier default", []string{"jetstream/streams/A/meta"}, 1,
			[]string{"jetstream/$G/streams/A/meta"}, []string{"jetstream/streams"}, ""},
		{"account named streams is not a streams directory", []string{"jetstream/streams/streams/A/meta"}, 0,
			[]string{"jetstream/streams/streams/A/meta"}, nil, ""},
		{"half-created stream stays", []string{"streams/A/meta", "streams/B/msgs/1.seg"}, 1,
			[]string{"jetstream/$G/streams/A/meta", "streams/B/msgs/1.seg"}, nil, ""},
		{"already migrated", []string{"jetstream/$G/streams/A/meta"}, 0, []string{"jetstream/$G/streams/A/meta"}, nil, ""},
		{"half migrated", []string{"jetstream/$G/streams/A/meta", "streams/B/meta"}, 1,
			[]string{"jetstream/$G/streams/A/meta", "jetstream/$G/streams/B/meta"}, []string{"streams"}, ""},
		{"in both places", []string{"jetstream/$G/streams/A/meta", "streams/A/meta"}, 0, nil, nil, `stream "A" is both in`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			for _, f := range tt.files {
				p := filepath.Join(sd, f)
				if err := fsys.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				fh, err := fsys.Create(p)
				if err != nil {
					t.Fatal(err)
				}
				fh.Close()
			}
			n, err := migrateLayout(fsys, sd, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.moved {
				t.Errorf("moved %d streams, want %d", n, tt.moved)
			}
			for _, f := range tt.want {
				if _, err := fsys.Stat(filepath.Join(sd, f)); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			for _, f := range tt.gone {
				if _, err := fsys.Stat(filepath.Join(sd, f)); !os.IsNotExist(err) {
					t.Errorf("%s still there: %v", f, err)
				}
			}
		})
	}
}
