package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// `starling consumer …` manages consumers and reads through them with the
// official client's jetstream package. Reading is in consumer_read.go,
// the text in consumer_format.go.

var consumerActions = []action{
	{name: "add", about: "Create or update a consumer", run: runConsumerAdd},
	{name: "info", about: "Show a consumer's configuration and state", run: runConsumerInfo},
	{name: "ls", about: "List a stream's consumers", run: runConsumerLs},
	{name: "rm", about: "Delete a consumer", run: runConsumerRm},
	{name: "next", about: "Fetch messages from a pull consumer, print and ack them", run: runConsumerNext},
	{name: "sub", about: "Consume continuously, printing and acking each message", run: runConsumerSub},
}

func runConsumer(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "consumer", consumerActions, args)
}

// actionCmd parses a consumer, kv or object action's flags (the
// connection flags plus extra) and checks the number of positional
// arguments before anything connects. The connection is named after the
// group unless --name says otherwise.
func actionCmd(e *env, args []string, group, act, synopsis, about string, minN, maxN int,
	extra func(*flagSet)) (*connFlags, []string, error) {
	c, pos, err := groupCmd(e, args, group, act, synopsis, about, extra)
	if err != nil {
		return nil, nil, err
	}
	// checkArgs needs only the names, for its message.
	if err := (&flagSet{cmd: group + " " + act, args: synopsis}).checkArgs(pos, minN, maxN); err != nil {
		return nil, nil, err
	}
	if c.name == "" {
		c.name = "starling-" + group
	}
	return c, pos, nil
}

// consumerInfo looks a pull or push consumer up (the client has one call
// for each kind) and returns its info.
func consumerInfo(ctx context.Context, s *jsSession, stream, name string) (*jetstream.ConsumerInfo, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	var info *jetstream.ConsumerInfo
	cons, err := s.js.Consumer(cctx, stream, name)
	if err == nil {
		info = cons.CachedInfo()
	} else if errors.Is(err, jetstream.ErrNotPullConsumer) {
		var push jetstream.PushConsumer
		if push, err = s.js.PushConsumer(cctx, stream, name); err == nil {
			info = push.CachedInfo()
		}
	}
	if err != nil {
		return nil, consumerErr(s, stream, name, err)
	}
	return info, nil
}

// consumerErr is explain with the consumer's own not-found line.
func consumerErr(s *jsSession, stream, name string, err error) error {
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("consumer %s not found on stream %s", name, stream)
	}
	return s.explain(stream, err)
}

func runConsumerAdd(ctx context.Context, e *env, args []string) error {
	o := &consumerAddOpts{}
	f := consumerAddFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 1, 2); err != nil {
		return err
	}
	if err := o.conn.validate(); err != nil {
		return err
	}
	cfg, err := o.consumerConfig(f, pos)
	if err != nil {
		return err
	}
	if o.conn.name == "" {
		o.conn.name = "starling-consumer"
	}
	s, err := openJS(&o.conn)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	var info *jetstream.ConsumerInfo
	if cfg.DeliverSubject != "" {
		var push jetstream.PushConsumer
		if push, err = s.js.CreateOrUpdatePushConsumer(cctx, pos[0], cfg); err == nil {
			info = push.CachedInfo()
		}
	} else {
		var cons jetstream.Consumer
		if cons, err = s.js.CreateOrUpdateConsumer(cctx, pos[0], cfg); err == nil {
			info = cons.CachedInfo()
		}
	}
	if err != nil {
		return fmt.Errorf("create consumer on %s: %w", pos[0], s.explain(pos[0], err))
	}
	return printConsumerInfo(e, info, o.json)
}

func runConsumerInfo(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	c, pos, err := actionCmd(e, args, "consumer", "info", "<stream> <name>", "Show a consumer's configuration and state.", 2, 2,
		func(f *flagSet) {
			f.boolVar(&asJSON, "json", "", "print the consumer info as JSON, as the API returns it")
		})
	if err != nil {
		return err
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	info, err := consumerInfo(ctx, s, pos[0], pos[1])
	if err != nil {
		return err
	}
	return printConsumerInfo(e, info, asJSON)
}

func printConsumerInfo(e *env, info *jetstream.ConsumerInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false) // filters hold '>'
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := io.WriteString(e.stdout, consumerInfoText(info))
	return err
}

func runConsumerLs(ctx context.Context, e *env, args []string) error {
	var namesOnly bool
	c, pos, err := actionCmd(e, args, "consumer", "ls", "<stream>", "List a stream's consumers with their state.", 1, 1,
		func(f *flagSet) { f.boolVar(&namesOnly, "names", "n", "print names only") })
	if err != nil {
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
	// Listing pages through the API; all pages share one timeout.
	cctx, cancel := s.call(ctx)
	defer cancel()
	if namesOnly {
		return listConsumerNames(cctx, e, s, st, pos[0])
	}
	list := st.ListConsumers(cctx)
	var infos []*jetstream.ConsumerInfo
	for ci := range list.Info() {
		infos = append(infos, ci)
	}
	if err := list.Err(); err != nil {
		return s.explain(pos[0], err)
	}
	slices.SortFunc(infos, func(a, b *jetstream.ConsumerInfo) int { return strings.Compare(a.Name, b.Name) })
	_, err = io.WriteString(e.stdout, consumerTable(infos))
	return err
}

func listConsumerNames(ctx context.Context, e *env, s *jsSession, st jetstream.Stream, stream string) error {
	list := st.ConsumerNames(ctx)
	var names []string
	for n := range list.Name() {
		names = append(names, n)
	}
	if err := list.Err(); err != nil {
		return s.explain(stream, err)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	_, err := io.WriteString(e.stdout, b.String())
	return err
}

func runConsumerRm(ctx context.Context, e *env, args []string) error {
	var force bool
	c, pos, err := actionCmd(e, args, "consumer", "rm", "<stream> <name>", "Delete a consumer and its delivery state.", 2, 2,
		func(f *flagSet) { f.boolVar(&force, "force", "f", "really delete (required)") })
	if err != nil {
		return err
	}
	if !force {
		return usageErrorf("consumer rm deletes %s from %s: add --force to confirm", pos[1], pos[0])
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.js.DeleteConsumer(cctx, pos[0], pos[1]); err != nil {
		return consumerErr(s, pos[0], pos[1], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted consumer %s from stream %s\n", pos[1], pos[0])
	return err
}
