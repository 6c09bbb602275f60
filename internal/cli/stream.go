package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// `starling stream …` manages JetStream streams through the official
// client's jetstream package, so it works against any JetStream server.
// Reading messages uses only the message-get API (no consumers).

var streamActions = []action{
	{name: "add", about: "Create a stream", run: runStreamAdd},
	{name: "info", about: "Show a stream's configuration and state", run: runStreamInfo},
	{name: "ls", about: "List streams", run: runStreamLs},
	{name: "rm", about: "Delete a stream and its messages", run: runStreamRm},
	{name: "purge", about: "Remove messages from a stream", run: runStreamPurge},
	{name: "get", about: "Print one message", run: runStreamGet},
	{name: "view", about: "Print messages in sequence order", run: runStreamView},
}

func runStream(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "stream", streamActions, args)
}

// jsSession is one connection with a JetStream handle; every API call runs
// under call's context, bounded by --timeout.
type jsSession struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	timeout time.Duration
	domain  string // the JetStream domain asked for, for messages
}

func openJS(c *connFlags) (*jsSession, error) {
	nc, err := c.connect("starling-stream")
	if err != nil {
		return nil, err
	}
	js, err := c.jetStream(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &jsSession{nc: nc, js: js, timeout: c.timeout, domain: c.settings.jsDomain}, nil
}

func (s *jsSession) close() { s.nc.Close() }

// call bounds one API request (or a short series) by the timeout.
func (s *jsSession) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// stream looks a stream up (one STREAM.INFO request); the result carries
// the info in CachedInfo.
func (s *jsSession) stream(ctx context.Context, name string) (jetstream.Stream, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	st, err := s.js.Stream(cctx, name)
	if err != nil {
		return nil, s.explain(name, err)
	}
	return st, nil
}

// explain turns client errors into one readable line.
func (s *jsSession) explain(name string, err error) error {
	var api *jetstream.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("stream %s not found", name)
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrJetStreamNotEnabled),
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		if s.domain != "" {
			return fmt.Errorf("JetStream is not enabled on the server, or not in domain %s", s.domain)
		}
		return errors.New("JetStream is not enabled on the server")
	case errors.Is(err, nats.ErrConnectionClosed):
		return connErr(s.nc, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("no reply from JetStream within %v (--timeout)", s.timeout)
	case errors.As(err, &api) && api.Description != "":
		return fmt.Errorf("%s (error %d)", api.Description, api.ErrorCode)
	}
	return err
}

// nameCmd parses an action's flags: the connection flags plus extra ones.
func nameCmd(e *env, args []string, action, synopsis, about string, extra func(*flagSet)) (*connFlags, *flagSet, []string, error) {
	c := &connFlags{}
	f := newFlagSet("stream "+action, synopsis, about)
	addJSConnFlags(f, c, e)
	if extra != nil {
		extra(f)
	}
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, f, pos, c.validate()
}

func runStreamAdd(ctx context.Context, e *env, args []string) error {
	o := &streamAddOpts{}
	f := streamAddFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 0, 1); err != nil {
		return err
	}
	if err := o.conn.validate(); err != nil {
		return err
	}
	cfg, err := o.streamConfig(f, pos)
	if err != nil {
		return err
	}
	s, err := openJS(&o.conn)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	st, err := s.js.CreateStream(cctx, cfg)
	if err != nil {
		return fmt.Errorf("create stream %s: %w", cfg.Name, s.explain(cfg.Name, err))
	}
	return printStreamInfo(e, st.CachedInfo(), o.json)
}

func runStreamInfo(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	c, f, pos, err := nameCmd(e, args, "info", "<name>", "Show a stream's configuration and state.", func(f *flagSet) {
		f.boolVar(&asJSON, "json", "", "print the stream info as JSON, as the API returns it")
	})
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return err
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.stream(ctx, pos[0])
	if err != nil {
		return err
	}
	return printStreamInfo(e, st.CachedInfo(), asJSON)
}

func runStreamLs(ctx context.Context, e *env, args []string) error {
	var namesOnly bool
	var subject string
	c, f, pos, err := nameCmd(e, args, "ls", "", "List streams with their size and last message.", func(f *flagSet) {
		f.boolVar(&namesOnly, "names", "n", "print names only")
		f.stringVar(&subject, "subject", "", "FILTER", "", "only streams whose subjects overlap FILTER")
	})
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 0, 0); err != nil {
		return err
	}
	if subject != "" {
		if err := checkSubject("--subject filter", subject, false); err != nil {
			return err
		}
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	var opts []jetstream.StreamListOpt
	if subject != "" {
		opts = append(opts, jetstream.WithStreamListSubject(subject))
	}
	// Listing pages through the API; all pages share one timeout.
	cctx, cancel := s.call(ctx)
	defer cancel()
	if namesOnly {
		return listStreamNames(cctx, e, s, opts)
	}
	list := s.js.ListStreams(cctx, opts...)
	var infos []*jetstream.StreamInfo
	for si := range list.Info() {
		infos = append(infos, si)
	}
	if err := list.Err(); err != nil {
		return s.explain("", err)
	}
	slices.SortFunc(infos, func(a, b *jetstream.StreamInfo) int { return strings.Compare(a.Config.Name, b.Config.Name) })
	_, err = fmt.Fprint(e.stdout, streamTable(infos, time.Now()))
	return err
}

func listStreamNames(ctx context.Context, e *env, s *jsSession, opts []jetstream.StreamListOpt) error {
	list := s.js.StreamNames(ctx, opts...)
	var names []string
	for n := range list.Name() {
		names = append(names, n)
	}
	if err := list.Err(); err != nil {
		return s.explain("", err)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}

func runStreamRm(ctx context.Context, e *env, args []string) error {
	var force bool
	c, f, pos, err := nameCmd(e, args, "rm", "<name>", "Delete a stream and all its messages.", func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really delete (required)")
	})
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return err
	}
	if !force {
		return usageErrorf("stream rm deletes %s and all its messages: add --force to confirm", pos[0])
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.js.DeleteStream(cctx, pos[0]); err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted stream %s\n", pos[0])
	return err
}

// purgeOpts are `stream purge`'s selectors.
type purgeOpts struct {
	subject   string
	seq, keep int
}

// options checks the selectors and turns them into client options.
func (p purgeOpts) options() ([]jetstream.StreamPurgeOpt, error) {
	if p.seq < 0 || p.keep < 0 {
		return nil, usageErrorf("--seq and --keep must not be negative")
	}
	if p.seq > 0 && p.keep > 0 {
		return nil, usageErrorf("--seq and --keep cannot be combined")
	}
	var opts []jetstream.StreamPurgeOpt
	if p.subject != "" {
		if err := checkSubject("--subject filter", p.subject, false); err != nil {
			return nil, err
		}
		opts = append(opts, jetstream.WithPurgeSubject(p.subject))
	}
	if p.seq > 0 {
		opts = append(opts, jetstream.WithPurgeSequence(uint64(p.seq)))
	}
	if p.keep > 0 {
		opts = append(opts, jetstream.WithPurgeKeep(uint64(p.keep)))
	}
	return opts, nil
}

func runStreamPurge(ctx context.Context, e *env, args []string) error {
	var force bool
	var p purgeOpts
	c, f, pos, err := nameCmd(e, args, "purge", "<name>",
		"Remove messages: all of them, or those --subject selects, below --seq, or all but the newest --keep.", func(f *flagSet) {
			f.boolVar(&force, "force", "f", "really purge (required)")
			f.stringVar(&p.subject, "subject", "", "FILTER", "", "only messages on subjects matching FILTER")
			f.intVar(&p.seq, "seq", "", 0, "only messages below this sequence")
			f.intVar(&p.keep, "keep", "", 0, "keep the newest N messages (per subject with --subject)")
		})
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return err
	}
	opts, err := p.options()
	if err != nil {
		return err
	}
	if !force {
		return usageErrorf("stream purge removes messages from %s: add --force to confirm", pos[0])
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.stream(ctx, pos[0])
	if err != nil {
		return err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	before := st.CachedInfo().State.Msgs
	if err := st.Purge(cctx, opts...); err != nil {
		return s.explain(pos[0], err)
	}
	info, err := st.Info(cctx)
	if err != nil {
		return s.explain(pos[0], err)
	}
	left := info.State.Msgs
	_, err = fmt.Fprintf(e.stdout, "Purged %s messages from %s; %s left\n",
		commaInt(int64(before-min(before, left))), pos[0], commaInt(int64(left)))
	return err
}
