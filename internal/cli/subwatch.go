package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// subWatch keeps a long-running subscriber (sub, reply) from going quiet:
// it reconnects until interrupted, as the nats CLI's does, with the
// connection handlers saying so on stderr; and when the server ends its
// subscription (-ERR 'Permissions Violation for Subscription to ...', as a
// reload that revokes the permission sends) the receive loop stops with
// that error. nats.go only reports the -ERR to the error handler: a
// receive blocked in NextMsgWithContext would otherwise wait forever.
type subWatch struct {
	ctx    context.Context // the receive loop's; cancelled when the subscription ends
	cancel context.CancelCauseFunc
}

func newSubWatch(parent context.Context) *subWatch {
	ctx, cancel := context.WithCancelCause(parent)
	return &subWatch{ctx: ctx, cancel: cancel}
}

func (w *subWatch) stop() { w.cancel(nil) }

// options are the connection options of a watched subscriber.
func (w *subWatch) options(e *env) []nats.Option {
	return []nats.Option{
		nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			switch {
			case isSubPermissionErr(err):
				// The command has one subscription: this is it.
				w.cancel(err)
			case errors.Is(err, nats.ErrSlowConsumer):
				// The receive loop reports it, with the sync subscription.
			default:
				e.logf("warning: %v", err)
			}
		}),
	}
}

// ended is the error to stop with once the receive context is done:
// nil when the parent was cancelled (the normal way to stop), the
// server's reason when it ended the subscription.
func (w *subWatch) ended(parent context.Context, subject string) error {
	if parent.Err() != nil {
		return nil
	}
	return fmt.Errorf("the server ended the subscription to %q: %w", subject, context.Cause(w.ctx))
}

// refused reports a subscription the server refused outright. Its -ERR
// arrives before the PONG of the flush that follows the SUB, and nats.go
// records it as the connection's last error before handling the PONG
// (the error handler runs later, on another goroutine).
func refused(nc *nats.Conn, subject string) error {
	if err := nc.LastError(); isSubPermissionErr(err) {
		return fmt.Errorf("subscribe to %q: %w", subject, err)
	}
	return nil
}

func isSubPermissionErr(err error) bool {
	return errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), "for Subscription to")
}
