package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// `starling object …` uses the official client's Object Store API.

var objectActions = []action{
	{"put", "Store a file (or stdin) as an object", runObjectPut},
	{"get", "Write an object to a file or stdout", runObjectGet},
	{"ls", "List a bucket's objects", runObjectLs},
	{"rm", "Delete an object", runObjectRm},
}

func runObject(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "object", objectActions, args)
}

// objectTimeout bounds a whole transfer: objects can be large.
func objectTimeout(c *connFlags) time.Duration { return max(c.timeout, time.Minute) }

func objectOpen(ctx context.Context, c *connFlags, bucket string, create bool) (*jsSession, jetstream.ObjectStore, error) {
	s, err := openJS(c)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	obs, err := s.js.ObjectStore(cctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) && create {
		obs, err = s.js.CreateObjectStore(cctx, jetstream.ObjectStoreConfig{Bucket: bucket})
	}
	if err != nil {
		s.close()
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, nil, fmt.Errorf("bucket %s not found", bucket)
		}
		return nil, nil, s.explain(bucket, err)
	}
	return s, obs, nil
}

func runObjectPut(ctx context.Context, e *env, args []string) error {
	var name string
	var noCreate bool
	c, pos, err := groupCmd(e, args, "object", "put", "<bucket> [file]", "Store a file, or stdin with --as, as an object (the bucket is created if missing).", func(f *flagSet) {
		f.stringVar(&name, "as", "", "NAME", "", "object name (default: the file's base name)")
		f.boolVar(&noCreate, "no-create", "", "fail if the bucket does not exist")
	})
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageErrorf("object put needs a bucket and a file (or stdin with --as)")
	}
	var r io.Reader
	switch {
	case len(pos) == 2:
		f, err := os.Open(pos[1])
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
		if name == "" {
			name = filepath.Base(pos[1])
		}
	case e.stdinPiped && name != "":
		r = e.stdin
	default:
		return usageErrorf("object put needs a file, or piped stdin and --as NAME")
	}
	s, obs, err := objectOpen(ctx, c, pos[0], !noCreate)
	if err != nil {
		return err
	}
	defer s.close()
	tctx, cancel := context.WithTimeout(ctx, objectTimeout(c))
	defer cancel()
	info, err := obs.Put(tctx, jetstream.ObjectMeta{Name: name}, r)
	if err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Stored %s: %s in %d chunks, %s\n", info.Name, humanBytes(float64(info.Size)), info.Chunks, info.Digest)
	return err
}

func runObjectGet(ctx context.Context, e *env, args []string) error {
	var out string
	c, pos, err := groupCmd(e, args, "object", "get", "<bucket> <name>", "Write an object to --output or stdout.", func(f *flagSet) {
		f.stringVar(&out, "output", "o", "FILE", "", "write here instead of stdout")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("object get needs a bucket and an object name")
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	tctx, cancel := context.WithTimeout(ctx, objectTimeout(c))
	defer cancel()
	res, err := obs.Get(tctx, pos[1])
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("object %s not found", pos[1])
	}
	if err != nil {
		return s.explain(pos[0], err)
	}
	defer res.Close()
	w := e.stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	// The client checks the digest at the end of the read.
	_, err = io.Copy(w, res)
	return err
}

func runObjectLs(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "object", "ls", "<bucket>", "List a bucket's objects.", nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("object ls needs a bucket")
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	list, err := obs.List(cctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		return s.explain(pos[0], err)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tMODIFIED")
	for _, o := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Name, humanBytes(float64(o.Size)), o.ModTime.UTC().Format(time.RFC3339))
	}
	tw.Flush()
	_, err = io.WriteString(e.stdout, b.String())
	return err
}

func runObjectRm(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "object", "rm", "<bucket> <name>", "Delete an object.", nil)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("object rm needs a bucket and an object name")
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := obs.Delete(cctx, pos[1]); err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted %s\n", pos[1])
	return err
}
