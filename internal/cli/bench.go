package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// maxBenchSize bounds --size: 64 MiB is the largest max_payload a NATS
// server accepts.
const maxBenchSize = 64 << 20

type benchOpts struct {
	conn       connFlags
	subject    string
	pubs       int // publishers, or requesters with --request
	subs       int
	msgs       int
	size       sizeValue
	queue      string
	request    bool
	replies    int // responders started by the bench with --request
	noProgress bool
	json       bool
	stall      time.Duration
	js         bool   // publish to a stream and wait for acks
	inflight   int    // acks outstanding per publisher with --js
	jsMemory   bool   // a stream the bench creates uses memory storage
	consume    string // --consume: pull or push
	kv         string // --kv: put or get
}

func benchFlags(e *env, o *benchOpts) *flagSet {
	f := newFlagSet("bench", "<subject>",
		"Measure throughput, or with --request round-trip latency, against any NATS server.\n"+
			"--msgs messages are published in total, split evenly across publishers. Every\n"+
			"client has its own connection. Each plain subscriber receives all --msgs; a queue\n"+
			"group receives --msgs between its members. Subscribers are registered (flushed)\n"+
			"before publishing starts; each client is timed from its first to its last message,\n"+
			"publishers including their final flush.")
	addJSConnFlags(f, &o.conn, e)
	f.intVar(&o.pubs, "pub", "", 1, "publishers (requesters with --request)")
	f.intVar(&o.subs, "sub", "", 0, "subscribers")
	f.intVar(&o.msgs, "msgs", "", 100000, "messages to publish in total")
	o.size = 128
	f.value(&o.size, "size", "", "BYTES", "128", "payload size in bytes, or with a unit: 16B, 1KiB, 1MiB (K, KB and KiB all mean 1024)")
	f.stringVar(&o.queue, "queue", "", "GROUP", "", "subscribers (responders with --request) join this queue group")
	f.boolVar(&o.request, "request", "", "request/reply latency mode: requesters send requests one at a time")
	f.intVar(&o.replies, "reply", "", 1, "responders the bench starts in --request mode; 0 uses existing ones")
	f.boolVar(&o.noProgress, "no-progress", "", "do not draw the progress line on stderr")
	f.boolVar(&o.json, "json", "", "print a JSON summary on stdout instead of the text report")
	f.durationVar(&o.stall, "stall-timeout", "", 10*time.Second, "fail when no message moves for this long")
	f.boolVar(&o.js, "js", "", "JetStream: publish to a stream and count acknowledged messages (a file stream on the subject is created if none exists, and deleted after)")
	f.intVar(&o.inflight, "inflight", "", 1, "with --js: acknowledgements outstanding per publisher (1 = synchronous publish)")
	f.boolVar(&o.jsMemory, "js-memory", "", "with --js, --consume or --kv: a stream or bucket the bench creates uses memory storage")
	f.stringVar(&o.consume, "consume", "", "pull|push", "", "JetStream: fill a stream with --msgs, then consume them with a durable pull consumer (explicit acks, batches of 100) or a push consumer")
	f.stringVar(&o.kv, "kv", "", "put|get", "", "JetStream Key-Value: --msgs puts or gets, one at a time, on a bucket the bench creates")
	return f
}

func parseBench(e *env, args []string) (*benchOpts, error) {
	o := &benchOpts{}
	f := benchFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return nil, err
	}
	o.subject = pos[0]
	if err := checkSubject("subject", o.subject, true); err != nil {
		return nil, err
	}
	if err := checkQueue("--queue group", o.queue); err != nil {
		return nil, err
	}
	if err := o.validate(f); err != nil {
		return nil, err
	}
	return o, o.conn.validate()
}

func (o *benchOpts) validate(f *flagSet) error {
	switch {
	case o.msgs < 1:
		return usageErrorf("--msgs must be at least 1")
	case o.pubs < 0 || o.subs < 0 || o.replies < 0:
		return usageErrorf("--pub, --sub and --reply must not be negative")
	case o.size < 0 || o.size > maxBenchSize:
		return usageErrorf("--size must be between 0 and 64 MiB")
	case o.pubs > o.msgs:
		return usageErrorf("--msgs (%d) must be at least --pub (%d)", o.msgs, o.pubs)
	case o.stall <= 0:
		return usageErrorf("--stall-timeout must be greater than zero")
	}
	// Flags a mode would silently ignore are refused.
	jsMode := o.js || o.consume != "" || o.kv != ""
	switch {
	case f.isSet("reply") && !o.request:
		return usageErrorf("--reply is only used with --request")
	case f.isSet("queue") && jsMode:
		return usageErrorf("--queue is for subscribers and responders, which --js, --consume and --kv do not start")
	case (f.isSet("js-domain") || f.isSet("js-api-prefix")) && !jsMode:
		return usageErrorf("--js-domain and --js-api-prefix are only used with --js, --consume or --kv")
	}
	if o.consume != "" || o.kv != "" {
		switch {
		case o.consume != "" && o.consume != "pull" && o.consume != "push":
			return usageErrorf("--consume must be pull or push")
		case o.kv != "" && o.kv != "put" && o.kv != "get":
			return usageErrorf("--kv must be put or get")
		case o.consume != "" && o.kv != "", o.js, o.request, f.isSet("sub"), f.isSet("pub"):
			return usageErrorf("--consume and --kv run on their own: no --js, --kv/--consume together, --pub, --sub or --request")
		}
		return nil
	}
	if !o.js && (f.isSet("inflight") || o.jsMemory) {
		return usageErrorf("--inflight and --js-memory are only used with --js")
	}
	if o.js {
		switch {
		case o.request || o.subs > 0:
			return usageErrorf("--js measures publishing only: no --sub or --request")
		case o.pubs < 1:
			return usageErrorf("--js needs at least one publisher (--pub)")
		case o.inflight < 1 || o.inflight > 65536:
			return usageErrorf("--inflight must be between 1 and 65536")
		}
		return nil
	}
	if o.request {
		if f.isSet("sub") {
			return usageErrorf("--sub is not used with --request; --reply sets the responders")
		}
		if o.pubs < 1 {
			return usageErrorf("--request needs at least one requester (--pub)")
		}
		return nil
	}
	if o.pubs+o.subs < 1 {
		return usageErrorf("nothing to run: --pub and --sub are both 0")
	}
	return nil
}

func runBench(ctx context.Context, e *env, args []string) error {
	o, err := parseBench(e, args)
	if err != nil {
		return err
	}
	// The banner and the progress line say what is going on; -q keeps
	// only the result.
	if !o.json && !e.quiet {
		if _, err := io.WriteString(e.stdout, benchBanner(o)+"\n"); err != nil {
			return err
		}
	}
	prog := newProgress(e.stderr, e.stderrTTY && !o.noProgress && !e.quiet)
	var res *benchResult
	switch {
	case o.consume != "":
		res, err = runJSConsumeBench(ctx, o, prog)
	case o.kv != "":
		res, err = runKVBench(ctx, o, prog)
	case o.js:
		res, err = runJSPubBench(ctx, o, prog)
	case o.request:
		res, err = runRequestBench(ctx, o, prog)
	default:
		res, err = runPubSubBench(ctx, o, prog)
	}
	prog.clear()
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonReport(res))
	}
	_, err = io.WriteString(e.stdout, textReport(res))
	return err
}

// newResult starts a result with the run's parameters filled in.
func newResult(o *benchOpts) *benchResult {
	r := &benchResult{
		scenario: scenarioPubSub,
		subject:  o.subject,
		msgs:     o.msgs,
		size:     int(o.size),
		pubs:     o.pubs,
		subs:     o.subs,
		queue:    o.queue,
	}
	if o.request {
		r.scenario = scenarioRequest
		r.subs = o.replies
		if r.queue == "" {
			r.queue = defaultBenchQueue // the group the responders really join
		}
	}
	return r
}

// benchBanner is the first line of a text report, printed before the run.
func benchBanner(o *benchOpts) string {
	r := newResult(o)
	switch {
	case o.consume != "":
		return fmt.Sprintf("Starting JetStream %s consumer benchmark [subject=%s, msgs=%s, size=%s B]",
			o.consume, r.subject, commaInt(int64(r.msgs)), commaInt(int64(r.size)))
	case o.kv != "":
		return fmt.Sprintf("Starting KV %s benchmark [msgs=%s, size=%s B]", o.kv, commaInt(int64(r.msgs)), commaInt(int64(r.size)))
	}
	if o.js {
		return fmt.Sprintf("Starting JetStream publish benchmark [subject=%s, msgs=%s, size=%s B, pubs=%d, inflight=%d]",
			r.subject, commaInt(int64(r.msgs)), commaInt(int64(r.size)), r.pubs, o.inflight)
	}
	if o.request {
		return fmt.Sprintf("Starting request/reply benchmark [subject=%s, msgs=%s, size=%s B, requesters=%d, responders=%d]",
			r.subject, commaInt(int64(r.msgs)), commaInt(int64(r.size)), r.pubs, r.subs)
	}
	q := ""
	if r.queue != "" {
		q = ", queue=" + r.queue
	}
	return fmt.Sprintf("Starting pub/sub benchmark [subject=%s, msgs=%s, size=%s B, pubs=%d, subs=%d%s]",
		r.subject, commaInt(int64(r.msgs)), commaInt(int64(r.size)), r.pubs, r.subs, q)
}
