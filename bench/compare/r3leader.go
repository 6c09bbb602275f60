package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Where an R3 stream's leader sits changes what a load costs: with the
// clients' server leading, messages and acks cross no route; with another
// leading, every one crosses one. Both servers elect wherever (and
// nats-server elects a consumer's leader apart from its stream's), so a
// round's figure moves with its placement (pull consumption ranged from
// 34k to 78k msgs/s on one side across runs). --leader fixes it for both:
// the stream's leader before a load, and a pull consumer's before it reads.
const (
	leaderAny    = "any"
	leaderLocal  = "local"
	leaderRemote = "remote"
)

// placeTries bounds the step-downs spent moving a leader.
const placeTries = 12

// leaderOf reads who leads a stream or a consumer ("" for no one yet).
type leaderOf func(ctx context.Context) (string, error)

func streamLeaderOf(js jetstream.JetStream, stream string) leaderOf {
	return func(ctx context.Context) (string, error) {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return "", err
		}
		if ci := s.CachedInfo().Cluster; ci != nil {
			return ci.Leader, nil
		}
		return "", nil
	}
}

func consumerLeaderOf(js jetstream.JetStream, stream, consumer string) leaderOf {
	return func(ctx context.Context) (string, error) {
		c, err := js.Consumer(ctx, stream, consumer)
		if err != nil {
			return "", err
		}
		if ci := c.CachedInfo().Cluster; ci != nil {
			return ci.Leader, nil
		}
		return "", nil
	}
}

// placeLeader steps a stream or consumer leader down (stepDown, the API
// subject) until it is on the clients' server (local) or on another
// (remote), at most placeTries times.
func placeLeader(ctx context.Context, js jetstream.JetStream, of leaderOf, stepDown, clientServer, where string) error {
	if where == leaderAny {
		return nil
	}
	for range placeTries {
		lead, err := newLeader(ctx, of, "")
		if err != nil {
			return err
		}
		if (lead == clientServer) == (where == leaderLocal) {
			return nil
		}
		if _, err := js.Conn().Request(stepDown, nil, opTimeout); err != nil {
			return fmt.Errorf("%s: %w", stepDown, err)
		}
		if _, err := newLeader(ctx, of, lead); err != nil {
			return err
		}
	}
	return fmt.Errorf("leader not %s after %d step-downs (%s)", where, placeTries, stepDown)
}

// newLeader waits (bounded) for a leader other than not, and returns its
// name.
func newLeader(ctx context.Context, of leaderOf, not string) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		ictx, cancel := context.WithTimeout(ctx, opTimeout)
		lead, err := of(ictx)
		cancel()
		if err == nil && lead != "" && lead != not {
			return lead, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no new leader (last error %v)", err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
