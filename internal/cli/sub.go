package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

type subOpts struct {
	conn        connFlags
	subject     string
	queue       string
	count       int
	raw         bool
	headersOnly bool
}

func subFlags(e *env, o *subOpts) *flagSet {
	f := newFlagSet("sub", "<subject>",
		"Subscribe to a subject (wildcards allowed) and print each message as it arrives,\n"+
			"until --count messages were printed or the command is interrupted.")
	addConnFlags(f, &o.conn, e)
	f.stringVar(&o.queue, "queue", "", "GROUP", "", "join this queue group")
	f.intVar(&o.count, "count", "", 0, "exit after this many messages; 0 runs until interrupted")
	f.boolVar(&o.raw, "raw", "r", "print only the payloads")
	f.boolVar(&o.headersOnly, "headers-only", "", "print subjects and headers, not payloads")
	return f
}

func parseSub(e *env, args []string) (*subOpts, error) {
	o := &subOpts{}
	f := subFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return nil, err
	}
	o.subject = pos[0]
	if err := checkSubject("subject", o.subject, false); err != nil {
		return nil, err
	}
	if err := checkQueue("--queue group", o.queue); err != nil {
		return nil, err
	}
	if o.count < 0 {
		return nil, usageErrorf("--count must not be negative")
	}
	if o.raw && o.headersOnly {
		return nil, usageErrorf("--raw and --headers-only cannot be combined")
	}
	return o, o.conn.validate()
}

func runSub(ctx context.Context, e *env, args []string) error {
	o, err := parseSub(e, args)
	if err != nil {
		return err
	}
	w := newSubWatch(ctx)
	defer w.stop()
	nc, err := o.conn.connect("starling-sub", w.options(e)...)
	if err != nil {
		return err
	}
	defer nc.Close()

	sub, err := nc.QueueSubscribeSync(o.subject, o.queue) // an empty queue is a plain subscription
	if err != nil {
		return fmt.Errorf("subscribe to %q: %w", o.subject, err)
	}
	if o.count > 0 {
		// Let the server stop delivering once we have enough, so a queue
		// group does not hand us messages we would never print.
		if err := sub.AutoUnsubscribe(o.count); err != nil {
			return err
		}
	}
	// After the flush round trip the server has registered the
	// subscription: the "Subscribing" line means messages will arrive.
	if err := nc.FlushTimeout(o.conn.timeout); err != nil {
		return fmt.Errorf("subscribe to %q: %w", o.subject, connErr(nc, err))
	}
	if err := refused(nc, o.subject); err != nil {
		return err
	}
	// Printed even with --raw: it goes to stderr, so piped payloads stay
	// clean, and it tells a watching script the subscription is live.
	e.status("%s", subscribingLine(o.subject, o.queue))
	return printMessages(ctx, e, nc, sub, o, w)
}

func subscribingLine(subject, queue string) string {
	if queue != "" {
		return fmt.Sprintf("Subscribing on %s in queue group %s", subject, queue)
	}
	return fmt.Sprintf("Subscribing on %s", subject)
}

// printMessages prints until o.count messages (0: no limit) or until ctx
// is cancelled, which is the normal way to stop and not an error.
func printMessages(ctx context.Context, e *env, nc *nats.Conn, sub *nats.Subscription, o *subOpts, w *subWatch) error {
	po := printOpts{raw: o.raw, headersOnly: o.headersOnly}
	for n := 1; o.count == 0 || n <= o.count; {
		m, err := sub.NextMsgWithContext(w.ctx)
		switch {
		case w.ctx.Err() != nil:
			return w.ended(ctx, o.subject)
		case errors.Is(err, nats.ErrSlowConsumer):
			// The client library dropped messages because we printed too
			// slowly; say so and keep going, as the nats CLI does.
			e.logf("warning: %v", err)
			continue
		case err != nil:
			return connErr(nc, err)
		}
		if _, err := e.stdout.Write(formatMsg(receivedTitle(n, m), m, po)); err != nil {
			return err
		}
		n++
	}
	return nil
}
