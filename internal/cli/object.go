package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// `starling object …` uses the official client's Object Store API.
// Transfers are bounded by progress, not by one timeout (object_io.go).

var objectActions = []action{
	{name: "put", about: "Store a file (or stdin) as an object", run: runObjectPut},
	{name: "get", about: "Write an object to a file or stdout", run: runObjectGet},
	{name: "ls", about: "List a bucket's objects, or the buckets", run: runObjectLs},
	{name: "rm", about: "Delete an object", run: runObjectRm},
	{name: "info", about: "Show an object's size, chunks, digest and time", run: runObjectInfo},
}

func runObject(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "object", objectActions, args)
}

// objectOpen opens the bucket, creating it first when create is set.
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
		return nil, nil, objectErr(s, bucket, "", err)
	}
	return s, obs, nil
}

// objectErr is explain with the bucket's and object's own lines.
func objectErr(s *jsSession, bucket, name string, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return fmt.Errorf("bucket %s not found", bucket)
	case errors.Is(err, jetstream.ErrObjectNotFound):
		return fmt.Errorf("object %s not found in bucket %s", name, bucket)
	case errors.Is(err, jetstream.ErrInvalidStoreName):
		return fmt.Errorf("invalid bucket name %q: letters, digits, - and _ only", bucket)
	}
	return s.explain(bucket, err)
}

// putSource is where `object put` reads from and the name it stores
// under: "<bucket> <file>", "<bucket> <name> <file>", or "-" for stdin.
func putSource(pos []string) (name, file string, err error) {
	if len(pos) == 2 {
		if pos[1] == "-" {
			return "", "", usageErrorf("reading stdin needs a name: object put <bucket> <name> -")
		}
		return filepath.Base(pos[1]), pos[1], nil
	}
	return pos[1], pos[2], nil
}

func runObjectPut(ctx context.Context, e *env, args []string) error {
	var noCreate bool
	var description string
	c, pos, err := actionCmd(e, args, "object", "put", "<bucket> [name] <file>",
		"Store a file as an object named after its base name, or after the name\n"+
			"argument; a file of - reads stdin. The bucket is created if missing.", 2, 3, func(f *flagSet) {
			f.boolVar(&noCreate, "no-create", "", "fail if the bucket does not exist")
			f.stringVar(&description, "description", "", "TEXT", "", "a description of the object")
		})
	if err != nil {
		return err
	}
	name, file, err := putSource(pos)
	if err != nil {
		return err
	}
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close() // read only: nothing to lose on close
		r = f
	}
	s, obs, err := objectOpen(ctx, c, pos[0], !noCreate)
	if err != nil {
		return err
	}
	defer s.close()
	idle := newIdleCancel(ctx, s.timeout)
	defer idle.stop()
	info, err := obs.Put(idle.ctx, jetstream.ObjectMeta{Name: name, Description: description}, idle.reader(r))
	if err != nil {
		return objectErr(s, pos[0], name, idle.explain(err))
	}
	_, err = fmt.Fprintf(e.stdout, "Stored %s in bucket %s: %s in %s, %s\n",
		info.Name, pos[0], bytesText(int64(info.Size)), plural(int64(info.Chunks), "chunk"), info.Digest)
	return err
}

func runObjectGet(ctx context.Context, e *env, args []string) error {
	c, pos, err := actionCmd(e, args, "object", "get", "<bucket> <name> [file]",
		"Write an object to a file, or to stdout without one (or with -). The file\n"+
			"appears only once the whole object has arrived and its digest matched.", 2, 3, nil)
	if err != nil {
		return err
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	idle := newIdleCancel(ctx, s.timeout)
	defer idle.stop()
	res, err := obs.Get(idle.ctx, pos[1])
	if err != nil {
		return objectErr(s, pos[0], pos[1], idle.explain(err))
	}
	defer res.Close() // a reader: its close cannot lose data
	r := idle.reader(res)
	if len(pos) == 2 || pos[2] == "-" {
		_, err = io.Copy(e.stdout, r)
		return idle.explain(err)
	}
	n, err := writeFileAtomic(pos[2], r)
	if err != nil {
		return idle.explain(err)
	}
	e.status("Wrote %s (%s) to %s", pos[1], bytesText(n), pos[2])
	return nil
}

func runObjectLs(ctx context.Context, e *env, args []string) error {
	c, pos, err := actionCmd(e, args, "object", "ls", "[bucket]", "List a bucket's objects; with no bucket, list the buckets.", 0, 1, nil)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return listObjectBuckets(ctx, e, c)
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	list, err := obs.List(cctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return objectErr(s, pos[0], "", err)
	}
	slices.SortFunc(list, func(a, b *jetstream.ObjectInfo) int { return strings.Compare(a.Name, b.Name) })
	_, err = io.WriteString(e.stdout, objectTable(pos[0], list))
	return err
}

func runObjectRm(ctx context.Context, e *env, args []string) error {
	c, pos, err := actionCmd(e, args, "object", "rm", "<bucket> <name>", "Delete an object.", 2, 2, nil)
	if err != nil {
		return err
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	// The client deletes a deleted object again without complaint; looking
	// it up first tells the user it was not there.
	if _, err := obs.GetInfo(cctx, pos[1]); err != nil {
		return objectErr(s, pos[0], pos[1], err)
	}
	if err := obs.Delete(cctx, pos[1]); err != nil {
		return objectErr(s, pos[0], pos[1], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted %s from bucket %s\n", pos[1], pos[0])
	return err
}

func runObjectInfo(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	c, pos, err := actionCmd(e, args, "object", "info", "<bucket> <name>", "Show an object's metadata.", 2, 2, func(f *flagSet) {
		f.boolVar(&asJSON, "json", "", "print the object info as JSON")
	})
	if err != nil {
		return err
	}
	s, obs, err := objectOpen(ctx, c, pos[0], false)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	info, err := obs.GetInfo(cctx, pos[1])
	if err != nil {
		return objectErr(s, pos[0], pos[1], err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err = io.WriteString(e.stdout, objectInfoText(info))
	return err
}

func listObjectBuckets(ctx context.Context, e *env, c *connFlags) error {
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	lister := s.js.ObjectStores(cctx)
	var all []jetstream.ObjectStoreStatus
	for st := range lister.Status() { // closed when done or when cctx ends
		all = append(all, st)
	}
	if err := lister.Error(); err != nil {
		return s.explain("", err)
	}
	slices.SortFunc(all, func(a, b jetstream.ObjectStoreStatus) int { return strings.Compare(a.Bucket(), b.Bucket()) })
	_, err = io.WriteString(e.stdout, objectBucketTable(all))
	return err
}

// objectBucketTable is `object ls`'s table of buckets, in the order given.
func objectBucketTable(all []jetstream.ObjectStoreStatus) string {
	if len(all) == 0 {
		return "No buckets defined\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tSIZE\tTTL\tSTORAGE\tDESCRIPTION")
	for _, st := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Bucket(), bytesText(int64(st.Size())), durationLimit(st.TTL()),
			enumWord(st.Storage()), st.Description())
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	return trimLines(b.String())
}

// objectTable is `object ls`'s table, in the order given.
func objectTable(bucket string, list []*jetstream.ObjectInfo) string {
	if len(list) == 0 {
		return fmt.Sprintf("No objects in bucket %s\n", bucket)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tMODIFIED")
	for _, o := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Name, bytesText(int64(o.Size)), o.ModTime.UTC().Format(time.RFC3339))
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	return trimLines(b.String())
}

// objectInfoText is `object info`'s report.
func objectInfoText(o *jetstream.ObjectInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Object %s in bucket %s\n\n", o.Name, o.Bucket)
	s := newSection(&b, "Information")
	if o.Description != "" {
		s.row("Description", o.Description)
	}
	size := bytesText(int64(o.Size))
	if o.Size >= 1024 {
		size += fmt.Sprintf(" (%s bytes)", commaInt(int64(o.Size)))
	}
	s.row("Size", size)
	s.row("Chunks", commaInt(int64(o.Chunks)))
	s.row("Digest", o.Digest)
	s.row("Modified", o.ModTime.UTC().Format(time.RFC3339))
	s.row("NUID", o.NUID)
	for _, k := range slices.Sorted(maps.Keys(o.Headers)) {
		s.row("Header "+k, strings.Join(o.Headers[k], ", "))
	}
	s.end()
	return b.String()
}
