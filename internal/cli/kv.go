package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// `starling kv …` uses the official client's Key-Value API.

var kvActions = []action{
	{"add", "Create a bucket", runKVAdd},
	{"put", "Set a key (value from the argument or stdin)", runKVPut},
	{"get", "Print a key's value", runKVGet},
	{"del", "Delete a key (its history stays)", runKVDel},
	{"ls", "List a bucket's keys, or the buckets", runKVLs},
	{"history", "Print a key's history", runKVHistory},
	{"watch", "Print updates as they happen", runKVWatch},
	{"rm", "Delete a bucket", runKVRm},
}

func runKV(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "kv", kvActions, args)
}

// kvOpen opens the session and the bucket.
func kvOpen(ctx context.Context, c *connFlags, bucket string) (*jsSession, jetstream.KeyValue, error) {
	s, err := openJS(c)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	kv, err := s.js.KeyValue(cctx, bucket)
	if err != nil {
		s.close()
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, nil, fmt.Errorf("bucket %s not found", bucket)
		}
		return nil, nil, s.explain(bucket, err)
	}
	return s, kv, nil
}

func runKVAdd(ctx context.Context, e *env, args []string) error {
	var history int
	var ttl time.Duration
	var maxValue, maxBytes sizeValue
	var storage string
	c, pos, err := groupCmd(e, args, "kv", "add", "<bucket>", "Create a Key-Value bucket.", func(f *flagSet) {
		f.intVar(&history, "history", "", 1, "values kept per key (1-64)")
		f.durationVar(&ttl, "ttl", "", 0, "how long a value lives (0: forever)")
		f.value(&maxValue, "max-value-size", "", "SIZE", "", "largest value")
		f.value(&maxBytes, "max-bytes", "", "SIZE", "", "most bytes in the bucket")
		f.stringVar(&storage, "storage", "", "TYPE", "file", "file or memory")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("kv add needs a bucket name")
	}
	st, err := pick("storage", storage, choice[jetstream.StorageType]{"file", jetstream.FileStorage}, choice[jetstream.StorageType]{"memory", jetstream.MemoryStorage})
	if err != nil {
		return err
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	cfg := jetstream.KeyValueConfig{Bucket: pos[0], History: uint8(min(max(history, 1), 64)), TTL: ttl, Storage: st}
	if maxValue > 0 {
		cfg.MaxValueSize = int32(maxValue)
	}
	if maxBytes > 0 {
		cfg.MaxBytes = int64(maxBytes)
	}
	if _, err := s.js.CreateKeyValue(cctx, cfg); err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Created bucket %s\n", pos[0])
	return err
}

func runKVPut(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "kv", "put", "<bucket> <key> [value]", "Set a key; without a value argument, stdin is the value.", nil)
	if err != nil {
		return err
	}
	if len(pos) < 2 || len(pos) > 3 {
		return usageErrorf("kv put needs a bucket, a key and a value (or stdin)")
	}
	var value []byte
	switch {
	case len(pos) == 3:
		value = []byte(pos[2])
	case e.stdinPiped:
		if value, err = io.ReadAll(io.LimitReader(e.stdin, maxBenchSize)); err != nil {
			return err
		}
	default:
		return usageErrorf("kv put needs a value argument or piped stdin")
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	rev, err := kv.Put(cctx, pos[1], value)
	if err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s revision %d\n", pos[1], rev)
	return err
}

func runKVGet(ctx context.Context, e *env, args []string) error {
	var revision int
	c, pos, err := groupCmd(e, args, "kv", "get", "<bucket> <key>", "Print a key's value.", func(f *flagSet) {
		f.intVar(&revision, "revision", "", 0, "a specific revision")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("kv get needs a bucket and a key")
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	var ent jetstream.KeyValueEntry
	if revision > 0 {
		ent, err = kv.GetRevision(cctx, pos[1], uint64(revision))
	} else {
		ent, err = kv.Get(cctx, pos[1])
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("key %s not found", pos[1])
	}
	if err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", ent.Value())
	return err
}

func runKVDel(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "kv", "del", "<bucket> <key>", "Delete a key.", nil)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("kv del needs a bucket and a key")
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := kv.Delete(cctx, pos[1]); err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted %s\n", pos[1])
	return err
}

func runKVLs(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "kv", "ls", "[bucket]", "List a bucket's keys, or with no bucket the buckets.", nil)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErrorf("kv ls takes at most a bucket name")
	}
	if len(pos) == 0 {
		s, err := openJS(c)
		if err != nil {
			return err
		}
		defer s.close()
		cctx, cancel := s.call(ctx)
		defer cancel()
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "BUCKET\tVALUES\tBYTES\tHISTORY")
		lister := s.js.KeyValueStores(cctx)
		for st := range lister.Status() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", st.Bucket(), commaInt(int64(st.Values())), humanBytes(float64(st.Bytes())), st.History())
		}
		if err := lister.Error(); err != nil {
			return s.explain("", err)
		}
		tw.Flush()
		_, err = io.WriteString(e.stdout, b.String())
		return err
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	keys, err := kv.Keys(cctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintln(e.stdout, strings.Join(keys, "\n"))
	return err
}

func runKVHistory(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "kv", "history", "<bucket> <key>", "Print every kept value of a key.", nil)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("kv history needs a bucket and a key")
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	hist, err := kv.History(cctx, pos[1])
	if err != nil {
		return s.explain(pos[0], err)
	}
	var b strings.Builder
	for _, ent := range hist {
		fmt.Fprintf(&b, "%d %s %s %s\n", ent.Revision(), ent.Created().UTC().Format(time.RFC3339), kvOp(ent.Operation()), ent.Value())
	}
	_, err = io.WriteString(e.stdout, b.String())
	return err
}

func kvOp(op jetstream.KeyValueOp) string {
	switch op {
	case jetstream.KeyValueDelete:
		return "DEL"
	case jetstream.KeyValuePurge:
		return "PURGE"
	}
	return "PUT"
}

func runKVWatch(ctx context.Context, e *env, args []string) error {
	var count int
	c, pos, err := groupCmd(e, args, "kv", "watch", "<bucket> [keys]", "Print the current values, then every update.", func(f *flagSet) {
		f.intVar(&count, "count", "", 0, "stop after this many entries (0: until interrupted)")
	})
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageErrorf("kv watch needs a bucket and optionally a key filter")
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	keys := jetstream.AllKeys
	if len(pos) == 2 {
		keys = pos[1]
	}
	w, err := kv.Watch(ctx, keys)
	if err != nil {
		return s.explain(pos[0], err)
	}
	defer w.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ent, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if ent == nil {
				continue // the end of the current values
			}
			if _, err := fmt.Fprintf(e.stdout, "[%d] %s %s %s\n", ent.Revision(), kvOp(ent.Operation()), ent.Key(), ent.Value()); err != nil {
				return err
			}
			if n++; count > 0 && n >= count {
				return nil
			}
		}
	}
}

func runKVRm(ctx context.Context, e *env, args []string) error {
	var force bool
	c, pos, err := groupCmd(e, args, "kv", "rm", "<bucket>", "Delete a bucket and all its keys.", func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really delete (required)")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("kv rm needs a bucket name")
	}
	if !force {
		return usageErrorf("kv rm deletes bucket %s: add --force to confirm", pos[0])
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.js.DeleteKeyValue(cctx, pos[0]); err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted bucket %s\n", pos[0])
	return err
}
