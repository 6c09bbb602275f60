package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// streamAddOpts are `stream add`'s flags.
type streamAddOpts struct {
	conn                                  connFlags
	subjects, storage, retention, discard string
	maxMsgs, maxPerSubject, replicas      int
	maxBytes, maxMsgSize                  limitValue
	maxAge, dupeWindow                    time.Duration
	allowRollup, denyDelete, denyPurge    bool
	allowDirect, discardNewPerSubject     bool
	description, compression, config      string
	json                                  bool
}

func streamAddFlags(e *env, o *streamAddOpts) *flagSet {
	f := newFlagSet("stream add", "<name>",
		"Create a stream and print it. Limits of -1 are unlimited. With --config the\n"+
			"file is the starting point and only the flags given override it; the name\n"+
			"argument may then be left out if the file has one.")
	addJSConnFlags(f, &o.conn, e)
	f.stringVar(&o.subjects, "subjects", "", "LIST", "", "subjects the stream captures, comma separated (default: the name)")
	f.stringVar(&o.storage, "storage", "", "TYPE", "file", "file or memory")
	f.stringVar(&o.retention, "retention", "", "POLICY", "limits", "limits, interest or workqueue")
	f.stringVar(&o.discard, "discard", "", "POLICY", "old", "when a limit is hit: old (drop the oldest) or new (refuse new ones)")
	f.intVar(&o.maxMsgs, "max-msgs", "", -1, "most messages kept")
	o.maxBytes, o.maxMsgSize = -1, -1
	f.value(&o.maxBytes, "max-bytes", "", "SIZE", "-1", "most bytes kept: 1GiB, 512MiB, …")
	f.durationVar(&o.maxAge, "max-age", "", 0, "oldest message kept, e.g. 24h (0: no limit)")
	f.value(&o.maxMsgSize, "max-msg-size", "", "SIZE", "-1", "largest message accepted")
	f.intVar(&o.maxPerSubject, "max-msgs-per-subject", "", -1, "most messages kept per subject")
	f.durationVar(&o.dupeWindow, "dupe-window", "", 0, "duplicate detection window (0: the server's default, 2m)")
	f.intVar(&o.replicas, "replicas", "", 1, "copies kept in a cluster")
	f.boolVar(&o.allowRollup, "allow-rollup", "", "allow Nats-Rollup headers to replace messages")
	f.boolVar(&o.denyDelete, "deny-delete", "", "refuse deleting messages")
	f.boolVar(&o.denyPurge, "deny-purge", "", "refuse purges")
	f.boolVar(&o.allowDirect, "allow-direct", "", "answer direct get requests")
	f.boolVar(&o.discardNewPerSubject, "discard-new-per-subject", "", "with --discard new: refuse per subject once it is full")
	f.stringVar(&o.description, "description", "", "TEXT", "", "a description")
	f.stringVar(&o.compression, "compression", "", "ALG", "none", "none or s2")
	f.stringVar(&o.config, "config", "", "FILE", "", "a JSON stream configuration to start from")
	f.boolVar(&o.json, "json", "", "print the resulting stream info as JSON")
	return f
}

// streamConfig builds the configuration from --config and the flags; pos
// holds the checked positional arguments (zero or one name).
func (o *streamAddOpts) streamConfig(f *flagSet, pos []string) (jetstream.StreamConfig, error) {
	var cfg jetstream.StreamConfig
	if o.config != "" {
		var err error
		if cfg, err = readStreamConfig(o.config); err != nil {
			return cfg, err
		}
	}
	if len(pos) == 1 {
		cfg.Name = pos[0]
	}
	if cfg.Name == "" {
		return cfg, usageErrorf("missing stream name")
	}
	// The names are subject tokens in the API ($JS.API.STREAM.INFO.<name>).
	if strings.ContainsAny(cfg.Name, ".*> \t\r\n") {
		return cfg, usageErrorf("invalid stream name %q: no '.', '*', '>' or spaces", cfg.Name)
	}
	// Without a file every flag applies, defaults included; with one only
	// the flags given do.
	set := func(flag string) bool { return o.config == "" || f.isSet(flag) }
	if err := o.applyPolicies(&cfg, set); err != nil {
		return cfg, err
	}
	if err := o.applyLimits(&cfg, set); err != nil {
		return cfg, err
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
	if f.isSet("description") {
		cfg.Description = o.description
	}
	if f.isSet("subjects") {
		if cfg.Subjects = splitList(o.subjects); len(cfg.Subjects) == 0 {
			return cfg, usageErrorf("--subjects must name at least one subject")
		}
		if err := checkSubjects("--subjects entry", cfg.Subjects, false); err != nil {
			return cfg, err
		}
	}
	// As nats-server does: a stream that neither mirrors nor sources
	// captures its own name by default.
	if len(cfg.Subjects) == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		cfg.Subjects = []string{cfg.Name}
	}
	return cfg, nil
}

// readStreamConfig reads a StreamConfig in the API's JSON form, bounded
// by a size check before the whole file is read.
func readStreamConfig(path string) (jetstream.StreamConfig, error) {
	var cfg jetstream.StreamConfig
	const maxConfig = 1 << 20
	st, err := os.Stat(path)
	if err != nil {
		return cfg, err
	}
	if st.Size() > maxConfig {
		return cfg, fmt.Errorf("%s: %d bytes is too large for a stream configuration", path, st.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: not a JSON stream configuration: %w", path, err)
	}
	return cfg, nil
}

func (o *streamAddOpts) applyPolicies(cfg *jetstream.StreamConfig, set func(string) bool) error {
	var err error
	if set("storage") {
		cfg.Storage, err = pick("storage", o.storage,
			choice[jetstream.StorageType]{"file", jetstream.FileStorage},
			choice[jetstream.StorageType]{"memory", jetstream.MemoryStorage})
		if err != nil {
			return err
		}
	}
	if set("retention") {
		cfg.Retention, err = pick("retention", o.retention,
			choice[jetstream.RetentionPolicy]{"limits", jetstream.LimitsPolicy},
			choice[jetstream.RetentionPolicy]{"interest", jetstream.InterestPolicy},
			choice[jetstream.RetentionPolicy]{"workqueue", jetstream.WorkQueuePolicy})
		if err != nil {
			return err
		}
	}
	if set("discard") {
		cfg.Discard, err = pick("discard", o.discard,
			choice[jetstream.DiscardPolicy]{"old", jetstream.DiscardOld},
			choice[jetstream.DiscardPolicy]{"new", jetstream.DiscardNew})
		if err != nil {
			return err
		}
	}
	if set("compression") {
		cfg.Compression, err = pick("compression", o.compression,
			choice[jetstream.StoreCompression]{"none", jetstream.NoCompression},
			choice[jetstream.StoreCompression]{"s2", jetstream.S2Compression})
	}
	return err
}

func (o *streamAddOpts) applyLimits(cfg *jetstream.StreamConfig, set func(string) bool) error {
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
		if o.maxMsgSize > math.MaxInt32 {
			return usageErrorf("--max-msg-size %d is above the largest the API takes (%d bytes)", o.maxMsgSize, math.MaxInt32)
		}
		cfg.MaxMsgSize = int32(o.maxMsgSize)
	}
	if set("max-msgs-per-subject") {
		cfg.MaxMsgsPerSubject = int64(o.maxPerSubject)
	}
	if set("dupe-window") {
		cfg.Duplicates = o.dupeWindow
	}
	if set("replicas") {
		if o.replicas < 1 {
			return usageErrorf("--replicas must be at least 1")
		}
		cfg.Replicas = o.replicas
	}
	for _, l := range []struct {
		flag string
		v    int
	}{{"max-msgs", o.maxMsgs}, {"max-msgs-per-subject", o.maxPerSubject}} {
		if set(l.flag) && l.v < -1 {
			return usageErrorf("--%s must be -1 (unlimited) or more", l.flag)
		}
	}
	return nil
}

// choice is one accepted word of an enumerated flag.
type choice[T any] struct {
	word string
	v    T
}

// pick returns the value of the choice s names (case-insensitive).
func pick[T any](flag, s string, choices ...choice[T]) (T, error) {
	words := make([]string, len(choices))
	for i, c := range choices {
		if strings.EqualFold(strings.TrimSpace(s), c.word) {
			return c.v, nil
		}
		words[i] = c.word
	}
	var zero T
	last := len(words) - 1
	list := strings.Join(words[:last], ", ") + " or " + words[last]
	return zero, usageErrorf("--%s must be %s, not %q", flag, list, s)
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

// limitValue is a byte limit: a size (see parseSize) or -1 for none.
type limitValue int64

func (v *limitValue) Set(s string) error {
	if t := strings.TrimSpace(s); t == "-1" || strings.EqualFold(t, "unlimited") {
		*v = -1
		return nil
	}
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v = limitValue(n)
	return nil
}

func (v *limitValue) String() string { return fmt.Sprint(int64(*v)) }
