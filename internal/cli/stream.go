package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// `starling stream …` manages JetStream streams through the official
// client's jetstream package, so it works against any JetStream server.

var streamActions = []struct {
	name, about string
	run         func(ctx context.Context, e *env, args []string) error
}{
	{"add", "Create a stream", runStreamAdd},
	{"info", "Show a stream's configuration and state", runStreamInfo},
	{"ls", "List streams", runStreamLs},
	{"rm", "Delete a stream and its messages", runStreamRm},
	{"purge", "Remove messages from a stream", runStreamPurge},
	{"get", "Print one message", runStreamGet},
	{"view", "Print messages in order", runStreamView},
}

func runStream(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		var b strings.Builder
		b.WriteString("Usage: starling stream <action> [flags]\n\nActions:\n")
		for _, a := range streamActions {
			fmt.Fprintf(&b, "  %-6s %s\n", a.name, a.about)
		}
		b.WriteString("\nstarling stream <action> --help shows an action's flags.\n")
		if len(args) == 0 {
			return usageErrorf("%s", strings.TrimSpace(b.String()))
		}
		_, err := fmt.Fprint(e.stdout, b.String())
		if err != nil {
			return err
		}
		return errHelp
	}
	for _, a := range streamActions {
		if a.name == args[0] {
			return a.run(ctx, e, args[1:])
		}
	}
	return usageErrorf("unknown stream action %q (add, info, ls, rm, purge, get, view)", args[0])
}

// jsClient connects and returns a JetStream handle; close closes the
// connection.
func jsClient(c *connFlags) (jetstream.JetStream, func(), error) {
	nc, err := c.connect("starling-stream")
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, nc.Close, nil
}

// streamErr makes client errors read well on one line.
func streamErr(name string, err error) error {
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("stream %s not found", name)
	}
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return errors.New("JetStream is not enabled on the server")
	}
	return err
}

// streamAddOpts are `stream add`'s flags.
type streamAddOpts struct {
	conn                                  connFlags
	subjects, storage, retention, discard string
	maxMsgs, maxPerSubject, replicas      int
	maxBytes, maxMsgSize                  sizeValue
	maxAge, dupeWindow                    time.Duration
	allowRollup, denyDelete, denyPurge    bool
	allowDirect, discardNewPerSubject, js bool
	description, compression, config      string
}

func streamAddFlags(e *env, o *streamAddOpts) *flagSet {
	f := newFlagSet("stream add", "<name>", "Create a stream. Unset limits are unlimited; flags override --config.")
	addConnFlags(f, &o.conn, e)
	f.stringVar(&o.subjects, "subjects", "", "LIST", "", "subjects the stream captures, comma separated (default: the name)")
	f.stringVar(&o.storage, "storage", "", "TYPE", "file", "file or memory")
	f.stringVar(&o.retention, "retention", "", "POLICY", "limits", "limits, interest or workqueue")
	f.stringVar(&o.discard, "discard", "", "POLICY", "old", "when full: old (drop oldest) or new (refuse new)")
	f.intVar(&o.maxMsgs, "max-msgs", "", -1, "most messages kept")
	o.maxBytes, o.maxMsgSize = -1, -1
	f.value(&o.maxBytes, "max-bytes", "", "SIZE", "-1", "most bytes kept: 1GB, 512MiB, …")
	f.durationVar(&o.maxAge, "max-age", "", 0, "oldest message kept (0: no limit)")
	f.value(&o.maxMsgSize, "max-msg-size", "", "SIZE", "-1", "largest message accepted")
	f.intVar(&o.maxPerSubject, "max-msgs-per-subject", "", -1, "most messages kept per subject")
	f.durationVar(&o.dupeWindow, "dupe-window", "", 0, "duplicate detection window (default 2m)")
	f.intVar(&o.replicas, "replicas", "", 1, "replicas")
	f.boolVar(&o.allowRollup, "allow-rollup", "", "allow Nats-Rollup headers")
	f.boolVar(&o.denyDelete, "deny-delete", "", "refuse message deletes")
	f.boolVar(&o.denyPurge, "deny-purge", "", "refuse purges")
	f.boolVar(&o.allowDirect, "allow-direct", "", "answer direct get requests")
	f.boolVar(&o.discardNewPerSubject, "discard-new-per-subject", "", "with --discard new: refuse per subject")
	f.stringVar(&o.description, "description", "", "TEXT", "", "description")
	f.stringVar(&o.compression, "compression", "", "ALG", "none", "none or s2 (file storage)")
	f.stringVar(&o.config, "config", "", "FILE", "", "a JSON stream configuration to start from")
	f.boolVar(&o.js, "json", "", "print the resulting stream info as JSON")
	return f
}

// streamConfig builds the configuration from the flags (over --config).
func (o *streamAddOpts) streamConfig(f *flagSet, name string) (jetstream.StreamConfig, error) {
	var cfg jetstream.StreamConfig
	if o.config != "" {
		b, err := os.ReadFile(o.config)
		if err != nil {
			return cfg, err
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", o.config, err)
		}
	}
	cfg.Name = name
	set := func(flag string) bool { return o.config == "" || f.isSet(flag) }
	if o.subjects != "" {
		cfg.Subjects = splitList(o.subjects)
	}
	var err error
	if set("storage") {
		err = errors.Join(err, cfg.Storage.UnmarshalJSON([]byte(fmt.Sprintf("%q", o.storage))))
	}
	if set("retention") {
		err = errors.Join(err, cfg.Retention.UnmarshalJSON([]byte(fmt.Sprintf("%q", o.retention))))
	}
	if set("discard") {
		err = errors.Join(err, cfg.Discard.UnmarshalJSON([]byte(fmt.Sprintf("%q", o.discard))))
	}
	if set("compression") {
		err = errors.Join(err, cfg.Compression.UnmarshalJSON([]byte(fmt.Sprintf("%q", o.compression))))
	}
	if err != nil {
		return cfg, usageErrorf("%v", err)
	}
	if set("max-msgs") {
		cfg.MaxMsgs = int64(o.maxMsgs)
	}
	if set("max-bytes") {
		cfg.MaxBytes = int64(o.maxBytes)
	}
	if set("max-age") {
		cfg.MaxAge = o.maxAge
	}
	if set("max-msg-size") {
		cfg.MaxMsgSize = int32(o.maxMsgSize)
	}
	if set("max-msgs-per-subject") {
		cfg.MaxMsgsPerSubject = int64(o.maxPerSubject)
	}
	if set("dupe-window") {
		cfg.Duplicates = o.dupeWindow
	}
	if set("replicas") {
		cfg.Replicas = o.replicas
	}
	for _, b := range []struct {
		flag string
		v    bool
		dst  *bool
	}{
		{"allow-rollup", o.allowRollup, &cfg.AllowRollup},
		{"deny-delete", o.denyDelete, &cfg.DenyDelete},
		{"deny-purge", o.denyPurge, &cfg.DenyPurge},
		{"allow-direct", o.allowDirect, &cfg.AllowDirect},
		{"discard-new-per-subject", o.discardNewPerSubject, &cfg.DiscardNewPerSubject},
	} {
		if set(b.flag) {
			*b.dst = b.v
		}
	}
	if set("description") && o.description != "" {
		cfg.Description = o.description
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runStreamAdd(ctx context.Context, e *env, args []string) error {
	o := &streamAddOpts{}
	f := streamAddFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return err
	}
	if err := o.conn.validate(); err != nil {
		return err
	}
	cfg, err := o.streamConfig(f, pos[0])
	if err != nil {
		return err
	}
	js, done, err := jsClient(&o.conn)
	if err != nil {
		return err
	}
	defer done()
	cctx, cancel := context.WithTimeout(ctx, o.conn.timeout)
	defer cancel()
	st, err := js.CreateStream(cctx, cfg)
	if err != nil {
		return streamErr(cfg.Name, err)
	}
	return printStreamInfo(e, st.CachedInfo(), o.js)
}

// nameCmd parses an action that takes a stream name and connection flags.
func nameCmd(e *env, args []string, name, synopsis, about string, extra func(*flagSet)) (*connFlags, []string, error) {
	c := &connFlags{}
	f := newFlagSet("stream "+name, synopsis, about)
	addConnFlags(f, c, e)
	if extra != nil {
		extra(f)
	}
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, nil, err
	}
	return c, pos, c.validate()
}

func runStreamInfo(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	c, pos, err := nameCmd(e, args, "info", "<name>", "Show a stream's configuration and state.", func(f *flagSet) {
		f.boolVar(&asJSON, "json", "", "print the stream info as JSON")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("stream info needs exactly one stream name")
	}
	js, done, err := jsClient(c)
	if err != nil {
		return err
	}
	defer done()
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	st, err := js.Stream(cctx, pos[0])
	if err != nil {
		return streamErr(pos[0], err)
	}
	info, err := st.Info(cctx)
	if err != nil {
		return streamErr(pos[0], err)
	}
	return printStreamInfo(e, info, asJSON)
}

func runStreamLs(ctx context.Context, e *env, args []string) error {
	var namesOnly bool
	var subject string
	c, pos, err := nameCmd(e, args, "ls", "", "List streams.", func(f *flagSet) {
		f.boolVar(&namesOnly, "names", "n", "print names only")
		f.stringVar(&subject, "subject", "", "FILTER", "", "only streams capturing subjects that overlap FILTER")
	})
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErrorf("stream ls takes no arguments")
	}
	js, done, err := jsClient(c)
	if err != nil {
		return err
	}
	defer done()
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var opts []jetstream.StreamListOpt
	if subject != "" {
		opts = append(opts, jetstream.WithStreamListSubject(subject))
	}
	if namesOnly {
		names := js.StreamNames(cctx, opts...)
		for n := range names.Name() {
			if _, err := fmt.Fprintln(e.stdout, n); err != nil {
				return err
			}
		}
		return streamErr("", names.Err())
	}
	list := js.ListStreams(cctx, opts...)
	var infos []*jetstream.StreamInfo
	for si := range list.Info() {
		infos = append(infos, si)
	}
	if err := list.Err(); err != nil {
		return streamErr("", err)
	}
	_, err = fmt.Fprint(e.stdout, streamTable(infos, time.Now()))
	return err
}

func runStreamRm(ctx context.Context, e *env, args []string) error {
	var force bool
	c, pos, err := nameCmd(e, args, "rm", "<name>", "Delete a stream and all its messages.", func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really delete (required)")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("stream rm needs exactly one stream name")
	}
	if !force {
		return usageErrorf("stream rm deletes %s and all its messages: add --force to confirm", pos[0])
	}
	js, done, err := jsClient(c)
	if err != nil {
		return err
	}
	defer done()
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := js.DeleteStream(cctx, pos[0]); err != nil {
		return streamErr(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted stream %s\n", pos[0])
	return err
}

func runStreamPurge(ctx context.Context, e *env, args []string) error {
	var force bool
	var subject string
	var seq, keep int
	c, pos, err := nameCmd(e, args, "purge", "<name>", "Remove messages: all of them, or those --subject selects, below --seq, or all but the newest --keep.", func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really purge (required)")
		f.stringVar(&subject, "subject", "", "FILTER", "", "only messages on subjects matching FILTER")
		f.intVar(&seq, "seq", "", 0, "only messages below this sequence")
		f.intVar(&keep, "keep", "", 0, "keep the newest N messages")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("stream purge needs exactly one stream name")
	}
	if seq < 0 || keep < 0 || (seq > 0 && keep > 0) {
		return usageErrorf("--seq and --keep must not be negative and cannot be combined")
	}
	if !force {
		return usageErrorf("stream purge removes messages from %s: add --force to confirm", pos[0])
	}
	js, done, err := jsClient(c)
	if err != nil {
		return err
	}
	defer done()
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	st, err := js.Stream(cctx, pos[0])
	if err != nil {
		return streamErr(pos[0], err)
	}
	var opts []jetstream.StreamPurgeOpt
	if subject != "" {
		opts = append(opts, jetstream.WithPurgeSubject(subject))
	}
	if seq > 0 {
		opts = append(opts, jetstream.WithPurgeSequence(uint64(seq)))
	}
	if keep > 0 {
		opts = append(opts, jetstream.WithPurgeKeep(uint64(keep)))
	}
	before := st.CachedInfo().State.Msgs
	if err := st.Purge(cctx, opts...); err != nil {
		return streamErr(pos[0], err)
	}
	info, err := st.Info(cctx)
	if err != nil {
		return streamErr(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Purged %s messages from %s; %s left\n",
		commaInt(int64(before-min(before, info.State.Msgs))), pos[0], commaInt(int64(info.State.Msgs)))
	return err
}
