package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestPutSource(t *testing.T) {
	tests := []struct {
		pos              []string
		wantName, wantIn string
		wantErr          string
	}{
		{[]string{"B", "dir/report.pdf"}, "report.pdf", "dir/report.pdf", ""},
		{[]string{"B", "renamed", "dir/report.pdf"}, "renamed", "dir/report.pdf", ""},
		{[]string{"B", "piped", "-"}, "piped", "-", ""},
		{[]string{"B", "-"}, "", "", "reading stdin needs a name"},
	}
	for _, tt := range tests {
		name, in, err := putSource(tt.pos)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err %v, want %q", tt.pos, err, tt.wantErr)
			}
			continue
		}
		if err != nil || name != tt.wantName || in != tt.wantIn {
			t.Errorf("%q: %q %q %v, want %q %q", tt.pos, name, in, err, tt.wantName, tt.wantIn)
		}
	}
}

// TestObjectArgErrors checks that mistakes are caught before connecting:
// the server URL points nowhere, so a connection attempt would show up.
func TestObjectArgErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing action"},
		{[]string{"cp"}, `unknown object action "cp"`},
		{[]string{"put", "B"}, "missing argument: usage: starling object put [flags] <bucket> [name] <file>"},
		{[]string{"put", "B", "-"}, "reading stdin needs a name"},
		{[]string{"put", "B", "n", "f", "x"}, `unexpected argument "x"`},
		{[]string{"get", "B"}, "missing argument"},
		{[]string{"ls", "a", "b"}, "unexpected argument"},
		{[]string{"rm", "B"}, "missing argument"},
		{[]string{"info", "B", "n", "x"}, `unexpected argument "x"`},
		{[]string{"put", "B", "f", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "object", append(tt.args, "-s", "nats://127.0.0.1:1")...)
		if code != 1 || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "see 'starling object --help'") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one usage line with %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestObjectHelp(t *testing.T) {
	code, out, _ := runCmd(t, "object", "--help")
	if code != 0 || !strings.Contains(out, "Usage: starling object <action>") {
		t.Fatalf("object --help: exit %d\n%s", code, out)
	}
	for _, a := range objectActions {
		code, aout, errOut := runCmd(t, "object", a.name, "--help")
		if code != 0 || errOut != "" || !strings.HasPrefix(aout, "Usage: starling object "+a.name) {
			t.Errorf("object %s --help: exit %d, stderr %q\n%s", a.name, code, errOut, aout)
		}
	}
}

func TestObjectText(t *testing.T) {
	list := []*jetstream.ObjectInfo{
		{ObjectMeta: jetstream.ObjectMeta{Name: "a.bin"}, Size: 3 << 20, ModTime: testNow},
		{ObjectMeta: jetstream.ObjectMeta{Name: "notes.txt"}, Size: 12, ModTime: testNow.Add(time.Hour)},
	}
	want := "" +
		"NAME       SIZE      MODIFIED\n" +
		"a.bin      3.00 MiB  2026-11-22T17:00:00Z\n" +
		"notes.txt  12 B      2026-11-22T18:00:00Z\n"
	if got := objectTable("B", list); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if got := objectTable("B", nil); got != "No objects in bucket B\n" {
		t.Errorf("empty: %q", got)
	}
	info := &jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "a.bin", Description: "raw",
		Headers: nats.Header{"X-B": {"2"}, "X-A": {"1"}}}, Bucket: "B", NUID: "N1", Size: 1500, Chunks: 2,
		Digest: "SHA-256=abc", ModTime: testNow}
	got := objectInfoText(info)
	for _, w := range []string{"Object a.bin in bucket B\n\nInformation:\n", "  Description:  raw\n", "  Size:         1.46 KiB (1,500 bytes)\n",
		"  Chunks:       2\n", "  Digest:       SHA-256=abc\n", "  Modified:     2026-11-22T17:00:00Z\n", "  Header X-A:   1\n  Header X-B:   2\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("info lacks %q:\n%s", w, got)
		}
	}
}

// blockingReader returns data once, then blocks until released.
type blockingReader struct {
	first   []byte
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	<-b.release
	return 0, io.EOF
}

func TestIdleCancel(t *testing.T) {
	ic := newIdleCancel(context.Background(), 30*time.Millisecond)
	defer ic.stop()
	br := &blockingReader{first: []byte("abc"), release: make(chan struct{})}
	defer close(br.release)
	r := ic.reader(br)
	if n, err := r.Read(make([]byte, 8)); n != 3 || err != nil {
		t.Fatalf("read: %d %v", n, err)
	}
	select {
	case <-ic.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("no cancel after the idle timeout")
	}
	if err := ic.explain(context.Canceled); err == nil || err.Error() != "transfer stalled: no progress within 30ms (--timeout)" {
		t.Fatalf("explain: %v", err)
	}
	// Without the timer firing, errors pass through unchanged.
	quiet := newIdleCancel(context.Background(), time.Hour)
	defer quiet.stop()
	if err := quiet.explain(io.ErrUnexpectedEOF); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("explain passes errors: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if n, err := writeFileAtomic(path, strings.NewReader("hello")); n != 5 || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello" {
		t.Fatalf("read back: %q %v", b, err)
	}
	// A failing source leaves the old file and no temporary behind.
	bad := io.MultiReader(strings.NewReader("partial"), errReader{io.ErrUnexpectedEOF})
	if _, err := writeFileAtomic(path, bad); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("failing write: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "hello" {
		t.Fatalf("old file changed: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
