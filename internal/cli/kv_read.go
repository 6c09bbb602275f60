package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Reading Key-Value buckets: key and bucket lists, a key's history and
// live updates, with their text kept in pure functions.

func runKVLs(ctx context.Context, e *env, args []string) error {
	c, pos, err := actionCmd(e, args, "kv", "ls", "[bucket]",
		"List a bucket's keys, one a line; with no bucket, list the buckets.", 0, 1, nil)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return listBuckets(ctx, e, c)
	}
	s, kv, err := kvOpen(ctx, c, pos[0])
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	lister, err := kv.ListKeys(cctx)
	if err != nil {
		return kvErr(s, pos[0], "", err)
	}
	var keys []string
	for k := range lister.Keys() { // closed when done or when cctx ends
		keys = append(keys, k)
	}
	if err := cctx.Err(); err != nil {
		return s.explain(pos[0], err)
	}
	if len(keys) == 0 {
		e.status("bucket %s has no keys", pos[0])
		return nil
	}
	slices.Sort(keys)
	_, err = io.WriteString(e.stdout, strings.Join(keys, "\n")+"\n")
	return err
}

func listBuckets(ctx context.Context, e *env, c *connFlags) error {
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	lister := s.js.KeyValueStores(cctx)
	var all []jetstream.KeyValueStatus
	for st := range lister.Status() {
		all = append(all, st)
	}
	if err := lister.Error(); err != nil {
		return s.explain("", err)
	}
	slices.SortFunc(all, func(a, b jetstream.KeyValueStatus) int { return strings.Compare(a.Bucket(), b.Bucket()) })
	_, err = io.WriteString(e.stdout, kvBucketTable(all))
	return err
}

func runKVHistory(ctx context.Context, e *env, args []string) error {
	c, pos, err := actionCmd(e, args, "kv", "history", "<bucket> <key>",
		"Print every kept value of a key, oldest first, with deletes and purges.", 2, 2, nil)
	if err != nil {
		return err
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
		return kvErr(s, pos[0], pos[1], err)
	}
	_, err = io.WriteString(e.stdout, kvHistoryTable(hist))
	return err
}

func runKVWatch(ctx context.Context, e *env, args []string) error {
	var count int
	c, pos, err := actionCmd(e, args, "kv", "watch", "<bucket> [key]",
		"Print the current value of every key (or of the keys matching the key\n"+
			"argument, which may hold * and >), then each update as it happens, until\n"+
			"interrupted or --count entries are printed.", 1, 2, func(f *flagSet) {
			f.intVar(&count, "count", "", 0, "stop after this many entries (0: until interrupted)")
		})
	if err != nil {
		return err
	}
	if count < 0 {
		return usageErrorf("--count must not be negative")
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
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := kv.Watch(wctx, keys)
	if err != nil {
		return kvErr(s, pos[0], "", err)
	}
	defer func() { _ = w.Stop() }() // the session closes right after
	return printWatch(ctx, e.stdout, w.Updates(), count, s.timeout, func() error {
		return s.explain(pos[0], context.DeadlineExceeded)
	})
}

// printWatch prints entries until ctx ends, count are printed, or the
// channel closes. The current values must keep coming: until the nil
// entry that ends them, a gap longer than timeout fails with stalled().
func printWatch(ctx context.Context, w io.Writer, updates <-chan jetstream.KeyValueEntry, count int,
	timeout time.Duration, stalled func() error) error {
	initial := time.NewTimer(timeout)
	defer initial.Stop()
	waiting := initial.C
	for n := 0; count == 0 || n < count; {
		select {
		case <-ctx.Done():
			return nil
		case <-waiting:
			return stalled()
		case ent, ok := <-updates:
			if !ok {
				return nil
			}
			if ent == nil { // the current values are all in
				initial.Stop()
				waiting = nil
				continue
			}
			if waiting != nil {
				initial.Reset(timeout)
			}
			if _, err := io.WriteString(w, kvEntryLine(ent)); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}

// kvEntryLine is one watched entry: "[7] PUT color blue", the value's own
// trailing newline dropped.
func kvEntryLine(ent jetstream.KeyValueEntry) string {
	line := fmt.Sprintf("[%d] %s %s", ent.Revision(), kvOp(ent.Operation()), ent.Key())
	if ent.Operation() == jetstream.KeyValuePut {
		line += " " + strings.TrimSuffix(string(ent.Value()), "\n")
	}
	return line + "\n"
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

// kvHistoryTable lists entries in the order given.
func kvHistoryTable(hist []jetstream.KeyValueEntry) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tOP\tCREATED\tLENGTH\tVALUE")
	for _, ent := range hist {
		v := strings.TrimSuffix(string(ent.Value()), "\n")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", ent.Revision(), kvOp(ent.Operation()),
			ent.Created().UTC().Format(time.RFC3339), len(ent.Value()), v)
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	return trimLines(b.String())
}

// kvBucketTable is `kv ls`'s table of buckets, in the order given.
func kvBucketTable(all []jetstream.KeyValueStatus) string {
	if len(all) == 0 {
		return "No buckets defined\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tVALUES\tBYTES\tHISTORY\tTTL")
	for _, st := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", st.Bucket(), commaInt(int64(st.Values())), bytesText(int64(st.Bytes())),
			st.History(), durationLimit(st.TTL()))
	}
	_ = tw.Flush()
	return trimLines(b.String())
}

// kvStatusText is what `kv add` prints about the new bucket.
func kvStatusText(st jetstream.KeyValueStatus) string {
	var b strings.Builder
	cfg := st.Config()
	fmt.Fprintf(&b, "Key-Value bucket %s\n\n", st.Bucket())
	s := newSection(&b, "Configuration")
	s.row("History", fmt.Sprint(st.History()))
	s.row("TTL", durationLimit(st.TTL()))
	s.row("Storage", enumWord(cfg.Storage))
	s.row("Max value size", limitText(int64(cfg.MaxValueSize), bytesText))
	s.row("Max bytes", limitText(cfg.MaxBytes, bytesText))
	s.row("Values", commaInt(int64(st.Values())))
	s.end()
	return b.String()
}
