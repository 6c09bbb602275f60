package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// defaultReplyQueue is the nats CLI's queue group for `nats reply`, so
// starling and nats responders started side by side share the load.
const defaultReplyQueue = "NATS-RPLY-22"

type replyOpts struct {
	conn    connFlags
	subject string
	body    string
	bodySet bool
	queue   string
	count   int
	echo    bool
	sleep   time.Duration
	headers headerValue
}

func replyFlags(e *env, o *replyOpts) *flagSet {
	f := newFlagSet("reply", "<subject> [body]",
		"Answer requests on a subject, printing each request. The reply is the body, with\n"+
			"{{Count}} replaced by the request number, or with --echo (also the default when\n"+
			"no body is given) the request's own payload and headers.")
	addConnFlags(f, &o.conn, e)
	f.stringVar(&o.queue, "queue", "", "GROUP", defaultReplyQueue, "queue group to join; \"\" for a plain subscription")
	f.intVar(&o.count, "count", "", 0, "exit after answering this many requests; 0 runs until interrupted")
	f.boolVar(&o.echo, "echo", "", "reply with the request's payload and headers")
	f.durationVar(&o.sleep, "sleep", "", 0, "wait this long before each reply")
	f.value(&o.headers, "header", "H", "KEY:VALUE", "", "add a header to replies; repeat for more")
	return f
}

func parseReply(e *env, args []string) (*replyOpts, error) {
	o := &replyOpts{}
	f := replyFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, err
	}
	if err := f.checkArgs(pos, 1, 2); err != nil {
		return nil, err
	}
	o.subject, o.body, o.bodySet = subjectAndBody(pos)
	if err := checkSubject("subject", o.subject, false); err != nil {
		return nil, err
	}
	if err := checkQueue("--queue group", o.queue); err != nil {
		return nil, err
	}
	if o.count < 0 {
		return nil, usageErrorf("--count must not be negative")
	}
	if o.echo && o.bodySet {
		return nil, usageErrorf("give a body or --echo, not both")
	}
	if !o.bodySet {
		o.echo = true
	}
	return o, o.conn.validate()
}

func runReply(ctx context.Context, e *env, args []string) error {
	o, err := parseReply(e, args)
	if err != nil {
		return err
	}
	w := newSubWatch(ctx)
	defer w.stop()
	nc, err := o.conn.connect("starling-reply", w.options(e)...)
	if err != nil {
		return err
	}
	defer nc.Close()

	sub, err := nc.QueueSubscribeSync(o.subject, o.queue)
	if err != nil {
		return fmt.Errorf("subscribe to %q: %w", o.subject, err)
	}
	if o.count > 0 {
		// Leave the group after count requests so the server stops routing
		// requests to a responder that will not answer them.
		if err := sub.AutoUnsubscribe(o.count); err != nil {
			return err
		}
	}
	if err := nc.FlushTimeout(o.conn.timeout); err != nil {
		return fmt.Errorf("subscribe to %q: %w", o.subject, connErr(nc, err))
	}
	if err := refused(nc, o.subject); err != nil {
		return err
	}
	e.status("%s", listeningLine(o.subject, o.queue))
	serveErr := serveReplies(ctx, e, nc, sub, o, w)
	// Replies are buffered like any publish: flush so the last ones are not
	// lost when the connection closes.
	if err := nc.FlushTimeout(o.conn.timeout); err != nil && serveErr == nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("flush: %w", err)
	}
	return serveErr
}

func listeningLine(subject, queue string) string {
	if queue == "" {
		return fmt.Sprintf("Listening on %q", subject)
	}
	return fmt.Sprintf("Listening on %q in group %q", subject, queue)
}

// serveReplies answers until o.count requests (0: no limit) or until ctx is
// cancelled, the normal way to stop.
func serveReplies(ctx context.Context, e *env, nc *nats.Conn, sub *nats.Subscription, o *replyOpts, w *subWatch) error {
	for n := 1; o.count == 0 || n <= o.count; {
		m, err := sub.NextMsgWithContext(w.ctx)
		switch {
		case w.ctx.Err() != nil:
			return w.ended(ctx, o.subject)
		case errors.Is(err, nats.ErrSlowConsumer):
			e.logf("warning: %v", err)
			continue
		case err != nil:
			return connErr(nc, err)
		}
		if _, err := e.stdout.Write(formatMsg(receivedTitle(n, m), m, printOpts{})); err != nil {
			return err
		}
		if m.Reply == "" {
			e.logf("warning: message %d has no reply subject; not answered", n)
			n++
			continue
		}
		if o.sleep > 0 && sleepCtx(ctx, o.sleep) != nil {
			return nil
		}
		resp, err := buildReply(m, o, n)
		if err != nil {
			return err
		}
		if err := m.RespondMsg(resp); err != nil {
			return fmt.Errorf("reply to %q: %w", m.Reply, connErr(nc, err))
		}
		n++
	}
	return nil
}

// buildReply makes the answer to request m, the n-th one.
func buildReply(m *nats.Msg, o *replyOpts, n int) (*nats.Msg, error) {
	h, err := buildHeader(o.headers, n)
	if err != nil {
		return nil, err
	}
	resp := &nats.Msg{Subject: m.Reply, Header: h}
	if !o.echo {
		resp.Data = []byte(expandCount(o.body, n))
		return resp, nil
	}
	resp.Data = m.Data
	for k, vs := range m.Header {
		if resp.Header == nil {
			resp.Header = nats.Header{}
		}
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
	return resp, nil
}
