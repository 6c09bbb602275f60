package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
)

// maxStdinBody bounds a body read from stdin: 64 MiB is the largest
// max_payload a NATS server accepts, so nothing bigger could be sent.
const maxStdinBody = 64 << 20

type pubOpts struct {
	conn    connFlags
	subject string
	body    string
	bodySet bool // a body argument was given (even an empty one)
	count   int
	headers headerValue
	reply   string
	sleep   time.Duration
}

func pubFlags(e *env, o *pubOpts) *flagSet {
	f := newFlagSet("pub", "<subject> [body]",
		"Publish a message. Without a body argument the body is read from stdin when stdin\n"+
			"is a pipe or file. {{Count}} in the subject, body or header values becomes the\n"+
			"message number, from 1. A body starting with '-' goes after '--'.")
	addConnFlags(f, &o.conn, e)
	f.intVar(&o.count, "count", "", 1, "number of messages to publish")
	f.value(&o.headers, "header", "H", "KEY:VALUE", "", "add a header; repeat for more headers or values")
	f.stringVar(&o.reply, "reply", "", "SUBJECT", "", "reply subject to set on the messages")
	f.durationVar(&o.sleep, "sleep", "", 0, "pause between messages")
	return f
}

func parsePub(e *env, args []string) (*pubOpts, error) {
	o := &pubOpts{}
	f := pubFlags(e, o)
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, err
	}
	if err := f.checkArgs(pos, 1, 2); err != nil {
		return nil, err
	}
	o.subject, o.body, o.bodySet = subjectAndBody(pos)
	if o.count < 1 {
		return nil, usageErrorf("--count must be at least 1")
	}
	if o.sleep > 0 && o.count == 1 {
		return nil, usageErrorf("--sleep pauses between messages: give --count above 1")
	}
	// {{Count}} becomes digits, which cannot make a subject valid or not.
	if err := checkSubject("subject", expandCount(o.subject, 1), true); err != nil {
		return nil, err
	}
	if o.reply != "" {
		if err := checkSubject("--reply subject", o.reply, true); err != nil {
			return nil, err
		}
	}
	return o, o.conn.validate()
}

func runPub(ctx context.Context, e *env, args []string) error {
	o, err := parsePub(e, args)
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
	// A refused publish is reported once, as the command's error, from
	// LastError after the flush; the handler would say it a second time.
	nc, err := o.conn.connect("starling-pub", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if !errors.Is(err, nats.ErrPermissionViolation) {
			e.logf("warning: %v", err)
		}
	}))
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := publishAll(ctx, e, nc, o); err != nil {
		return err
	}
	// Publish only buffers; the flush round trip proves the server has
	// every message before we close the connection.
	if err := nc.FlushTimeout(o.conn.timeout); err != nil {
		return fmt.Errorf("flush: %w", connErr(nc, err))
	}
	if err := nc.LastError(); err != nil {
		return err
	}
	return nil
}

func publishAll(ctx context.Context, e *env, nc *nats.Conn, o *pubOpts) error {
	for i := 1; i <= o.count; i++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted after %d of %d messages", i-1, o.count)
		}
		h, err := buildHeader(o.headers, i)
		if err != nil {
			return err
		}
		m := &nats.Msg{
			Subject: expandCount(o.subject, i),
			Reply:   o.reply,
			Data:    []byte(expandCount(o.body, i)),
			Header:  h,
		}
		if err := nc.PublishMsg(m); err != nil {
			return fmt.Errorf("publish to %q: %w", m.Subject, connErr(nc, err))
		}
		e.status("Published %d bytes to %q", len(m.Data), m.Subject)
		if o.sleep > 0 && i < o.count {
			// Flush first so the pause spaces out deliveries, not just calls.
			if err := nc.FlushTimeout(o.conn.timeout); err != nil {
				return fmt.Errorf("flush: %w", err)
			}
			if err := sleepCtx(ctx, o.sleep); err != nil {
				return fmt.Errorf("interrupted after %d of %d messages", i, o.count)
			}
		}
	}
	return nil
}

// readBounded reads all of r, failing if it holds more than limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %s (%s bytes)", humanBytes(float64(limit)), commaInt(limit))
	}
	return b, nil
}

// sleepCtx waits for d or until ctx is done, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
