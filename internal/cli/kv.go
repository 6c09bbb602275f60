package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// `starling kv …` uses the official client's Key-Value API. Changing
// buckets and keys is here; reading lists, history and updates is in
// kv_read.go.

var kvActions = []action{
	{name: "add", about: "Create a bucket", run: runKVAdd},
	{name: "put", about: "Set a key (value from the argument or piped stdin)", run: runKVPut},
	{name: "get", about: "Print a key's value", run: runKVGet},
	{name: "del", about: "Delete a key (its history stays)", run: runKVDel},
	{name: "purge", about: "Delete a key and its history", run: runKVPurge},
	{name: "ls", about: "List a bucket's keys, or the buckets", run: runKVLs},
	{name: "watch", about: "Print the values, then updates as they happen", run: runKVWatch},
	{name: "history", about: "Print a key's kept values", run: runKVHistory},
	{name: "rm", about: "Delete a bucket", run: runKVRm},
}

func runKV(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "kv", kvActions, args)
}

// kvOpen opens the session and the bucket (one STREAM.INFO request).
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
		return nil, nil, kvErr(s, bucket, "", err)
	}
	return s, kv, nil
}

// kvErr is explain with the bucket's and key's own lines.
func kvErr(s *jsSession, bucket, key string, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
		return fmt.Errorf("bucket %s not found", bucket)
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return fmt.Errorf("key %s not found in bucket %s", key, bucket)
	case errors.Is(err, jetstream.ErrInvalidKey):
		return fmt.Errorf("invalid key %q: letters, digits and -_=/. only, no leading or trailing '.'", key)
	case errors.Is(err, jetstream.ErrInvalidBucketName):
		return fmt.Errorf("invalid bucket name %q: letters, digits, - and _ only", bucket)
	}
	return s.explain(bucket, err)
}

// kvAddOpts are `kv add`'s flags.
type kvAddOpts struct {
	history            int
	ttl                time.Duration
	maxValue, maxBytes limitValue
	storage            string
}

func (o *kvAddOpts) flags(f *flagSet) {
	o.maxValue, o.maxBytes = -1, -1
	f.intVar(&o.history, "history", "", 1, "values kept per key (1-64)")
	f.durationVar(&o.ttl, "ttl", "", 0, "how long a value lives (0: forever)")
	f.value(&o.maxValue, "max-value-size", "", "SIZE", "-1", "largest value: 1KiB, 1MiB, … (-1: the server's limit)")
	f.value(&o.maxBytes, "max-bytes", "", "SIZE", "-1", "most bytes in the bucket (-1: unlimited)")
	f.stringVar(&o.storage, "storage", "", "TYPE", "file", "file or memory")
}

func (o *kvAddOpts) config(bucket string) (jetstream.KeyValueConfig, error) {
	cfg := jetstream.KeyValueConfig{Bucket: bucket, TTL: o.ttl, MaxValueSize: -1, MaxBytes: int64(o.maxBytes)}
	if o.history < 1 || o.history > 64 {
		return cfg, usageErrorf("--history must be from 1 to 64")
	}
	cfg.History = uint8(o.history)
	if o.maxValue > math.MaxInt32 {
		return cfg, usageErrorf("--max-value-size %d is above the largest the API takes (%d bytes)", o.maxValue, math.MaxInt32)
	}
	cfg.MaxValueSize = int32(o.maxValue)
	var err error
	cfg.Storage, err = pick("storage", o.storage,
		choice[jetstream.StorageType]{"file", jetstream.FileStorage},
		choice[jetstream.StorageType]{"memory", jetstream.MemoryStorage})
	return cfg, err
}

func runKVAdd(ctx context.Context, e *env, args []string) error {
	var o kvAddOpts
	c, pos, err := actionCmd(e, args, "kv", "add", "<bucket>", "Create a Key-Value bucket and print its status.", 1, 1, o.flags)
	if err != nil {
		return err
	}
	cfg, err := o.config(pos[0])
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
	kv, err := s.js.CreateKeyValue(cctx, cfg)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", pos[0], kvErr(s, pos[0], "", err))
	}
	st, err := kv.Status(cctx)
	if err != nil {
		return kvErr(s, pos[0], "", err)
	}
	_, err = io.WriteString(e.stdout, kvStatusText(st))
	return err
}

func runKVPut(ctx context.Context, e *env, args []string) error {
	c, pos, err := actionCmd(e, args, "kv", "put", "<bucket> <key> [value]",
		"Set a key. Without a value argument the value is read from piped stdin,\n"+
			"up to the server's largest message.", 2, 3, nil)
	if err != nil {
		return err
	}
	if len(pos) == 2 && !e.stdinPiped {
		return usageErrorf("kv put needs a value argument or piped stdin")
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	var value []byte
	if len(pos) == 3 {
		value = []byte(pos[2])
	} else if value, err = readBounded(e.stdin, s.nc.MaxPayload()); err != nil {
		// The server's largest message bounds the read.
		return fmt.Errorf("value from stdin: %w", err)
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	rev, err := kv.Put(cctx, pos[1], value)
	if err != nil {
		return kvErr(s, pos[0], pos[1], err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s revision %d\n", pos[1], rev)
	return err
}

func runKVGet(ctx context.Context, e *env, args []string) error {
	var revision int
	var raw bool
	c, pos, err := actionCmd(e, args, "kv", "get", "<bucket> <key>",
		"Print a key's value, followed by a newline unless it ends with one.", 2, 2, func(f *flagSet) {
			f.intVar(&revision, "revision", "", 0, "this revision instead of the latest")
			f.boolVar(&raw, "raw", "", "print the value's bytes exactly, nothing added")
		})
	if err != nil {
		return err
	}
	if revision < 0 {
		return usageErrorf("--revision must not be negative")
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
	if errors.Is(err, jetstream.ErrKeyNotFound) && revision > 0 {
		return fmt.Errorf("key %s has no revision %d in bucket %s", pos[1], revision, pos[0])
	}
	if err != nil {
		return kvErr(s, pos[0], pos[1], err)
	}
	v := ent.Value()
	if !raw && (len(v) == 0 || v[len(v)-1] != '\n') {
		v = append(v[:len(v):len(v)], '\n')
	}
	_, err = e.stdout.Write(v)
	return err
}

// kvDelete is del and purge: one removes the value, the other its history.
func kvDelete(ctx context.Context, e *env, args []string, purge bool) error {
	act, about, done := "del", "Delete a key; its earlier values stay in the history.", "Deleted"
	var force bool
	var extra func(*flagSet)
	if purge {
		act, about, done = "purge", "Delete a key and all its kept values.", "Purged"
		extra = func(f *flagSet) { f.boolVar(&force, "force", "f", "really purge (required)") }
	}
	c, pos, err := actionCmd(e, args, "kv", act, "<bucket> <key>", about, 2, 2, extra)
	if err != nil {
		return err
	}
	if purge && !force {
		return usageErrorf("kv purge removes %s and its history: add --force to confirm", pos[1])
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if purge {
		err = kv.Purge(cctx, pos[1])
	} else {
		err = kv.Delete(cctx, pos[1])
	}
	if err != nil {
		return kvErr(s, pos[0], pos[1], err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s %s from bucket %s\n", done, pos[1], pos[0])
	return err
}

func runKVDel(ctx context.Context, e *env, args []string) error { return kvDelete(ctx, e, args, false) }
func runKVPurge(ctx context.Context, e *env, args []string) error {
	return kvDelete(ctx, e, args, true)
}

func runKVRm(ctx context.Context, e *env, args []string) error {
	var force bool
	c, pos, err := actionCmd(e, args, "kv", "rm", "<bucket>", "Delete a bucket and all its keys.", 1, 1, func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really delete (required)")
	})
	if err != nil {
		return err
	}
	if !force {
		return usageErrorf("kv rm deletes bucket %s and all its keys: add --force to confirm", pos[0])
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.js.DeleteKeyValue(cctx, pos[0]); err != nil {
		return kvErr(s, pos[0], "", err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted bucket %s\n", pos[0])
	return err
}
