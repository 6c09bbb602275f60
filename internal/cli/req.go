package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

type reqOpts struct {
	conn    connFlags
	subject string
	body    string
	bodySet bool
	count   int
	headers headerValue
	replies int
	raw     bool
}

func reqFlags(e *env, o *reqOpts) *flagSet {
	f := newFlagSet("req", "<subject> [body]",
		"Send a request and print the reply. With --replies N other than 1 the request is\n"+
			"published once and replies are gathered from every responder (scatter-gather)\n"+
			"until N arrived or --timeout passed. Body and {{Count}} work as for pub.")
	addConnFlags(f, &o.conn, e)
	f.intVar(&o.count, "count", "", 1, "number of requests to send, one after another")
	f.value(&o.headers, "header", "H", "KEY:VALUE", "", "add a header; repeat for more headers or values")
	f.intVar(&o.replies, "replies", "", 1, "replies to wait for per request; 0 gathers until --timeout")
	f.boolVar(&o.raw, "raw", "r", "print only the reply payloads")
	return f
}

func parseReq(e *env, args []string) (*reqOpts, error) {
	o := &reqOpts{}
	f := reqFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, err
	}
	if err := f.checkArgs(pos, 1, 2); err != nil {
		return nil, err
	}
	o.subject, o.body, o.bodySet = subjectAndBody(pos)
	if err := checkSubject("subject", expandCount(o.subject, 1), true); err != nil {
		return nil, err
	}
	if o.count < 1 {
		return nil, usageErrorf("--count must be at least 1")
	}
	if o.replies < 0 {
		return nil, usageErrorf("--replies must not be negative")
	}
	return o, o.conn.validate()
}

func runReq(ctx context.Context, e *env, args []string) error {
	o, err := parseReq(e, args)
	if err != nil {
		return err
	}
	if !o.bodySet && e.stdinPiped {
		body, err := readBounded(e.stdin, maxStdinBody)
		if err != nil {
			return fmt.Errorf("read body from stdin: %w", err)
		}
		o.body = string(body)
	}
	nc, err := o.conn.connect("starling-req")
	if err != nil {
		return err
	}
	defer nc.Close()

	r := &requester{e: e, nc: nc, o: o}
	for i := 1; i <= o.count; i++ {
		h, err := buildHeader(o.headers, i)
		if err != nil {
			return err
		}
		m := &nats.Msg{Subject: expandCount(o.subject, i), Data: []byte(expandCount(o.body, i)), Header: h}
		if !o.raw {
			e.status("Sending request on %q", m.Subject)
		}
		if o.replies == 1 {
			err = r.one(ctx, m)
		} else {
			err = r.gather(ctx, m)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// requester sends requests and prints replies, numbering them across the run.
type requester struct {
	e       *env
	nc      *nats.Conn
	o       *reqOpts
	printed int
}

// one sends a request that expects a single reply, through nats.go's
// shared response subscription as ordinary clients do.
func (r *requester) one(ctx context.Context, m *nats.Msg) error {
	rctx, cancel := context.WithTimeout(ctx, r.o.conn.timeout)
	defer cancel()
	start := time.Now()
	reply, err := r.nc.RequestMsgWithContext(rctx, m)
	if err != nil {
		return r.requestError(ctx, m.Subject, err, 0)
	}
	return r.print(reply, time.Since(start))
}

// gather publishes one request with its own inbox and prints replies until
// r.o.replies arrived (0: until the timeout, which is then success).
func (r *requester) gather(ctx context.Context, m *nats.Msg) error {
	m.Reply = r.nc.NewInbox()
	sub, err := r.nc.SubscribeSync(m.Reply)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }() // best effort; the connection closes soon anyway
	if r.o.replies > 0 {
		if err := sub.AutoUnsubscribe(r.o.replies); err != nil {
			return err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, r.o.conn.timeout)
	defer cancel()
	start := time.Now()
	if err := r.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("publish to %q: %w", m.Subject, err)
	}
	for got := 0; r.o.replies == 0 || got < r.o.replies; got++ {
		reply, err := sub.NextMsgWithContext(rctx)
		if err != nil {
			if r.o.replies == 0 && got > 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				return nil // gathered everything that answered in time
			}
			return r.requestError(ctx, m.Subject, err, got)
		}
		if err := r.print(reply, time.Since(start)); err != nil {
			return err
		}
	}
	return nil
}

// requestError turns context errors into messages a user understands.
func (r *requester) requestError(ctx context.Context, subject string, err error, got int) error {
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted")
	case errors.Is(err, context.DeadlineExceeded):
		if r.o.replies > 1 {
			return fmt.Errorf("received %d of %d replies within %v (--timeout)", got, r.o.replies, r.o.conn.timeout)
		}
		return fmt.Errorf("no reply within %v (--timeout)", r.o.conn.timeout)
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("no responders: nothing is subscribed to %q", subject)
	}
	return connErr(r.nc, err)
}

func (r *requester) print(m *nats.Msg, rtt time.Duration) error {
	r.printed++
	_, err := r.e.stdout.Write(formatMsg(replyTitle(r.printed, rtt), m, printOpts{raw: r.o.raw}))
	return err
}
