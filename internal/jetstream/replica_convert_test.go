package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A stream of one replica growing to three is seeded off the account's
// admin lock: while its seeding is held, another stream of the account
// is created, and once released the grown stream answers with its
// messages and three current replicas.
func TestConversionSeedsOffAdminLock(t *testing.T) {
	release := make(chan struct{})
	seedHook = func() { <-release }
	t.Cleanup(func() { seedHook = func() {} })
	_, nodes, _, _, js := startCompacting(t)
	var once sync.Once
	releaseSeed := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseSeed) // before the servers stop, should the test fail while held
	ctx := context.Background()
	var st jetstream.Stream
	within(t, 30*time.Second, "create", func() (err error) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "ONE", Subjects: []string{"one.>"}, Replicas: 1})
		return err
	})
	(&publisher{t: t, js: js}).publish("one.x", 50)
	var converting *powerNode // the server holding ONE, which converts it
	for _, n := range nodes {
		if n.name == st.CachedInfo().Cluster.Leader {
			converting = n
		}
	}
	if converting == nil {
		t.Fatalf("no server named %q holds ONE", st.CachedInfo().Cluster.Leader)
	}
	cfg := st.CachedInfo().Config
	cfg.Replicas = 3
	updated := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		_, err := js.UpdateStream(cctx, cfg)
		updated <- err
	}()
	within(t, 30*time.Second, "another stream created while the seeding is held", func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}, Replicas: 3})
		return err
	})
	// The converting server itself hosts the new stream meanwhile: its
	// hosting of assignments is not stuck behind the seeding.
	within(t, 30*time.Second, "the converting server hosting OTHER", func() error {
		if converting.m.account("$G").lookup("OTHER") == nil {
			return errors.New("not hosted")
		}
		return nil
	})
	select {
	case err := <-updated:
		t.Fatalf("the update answered before the seeding ran: %v", err)
	default:
	}
	releaseSeed()
	if err := <-updated; err != nil {
		t.Fatalf("update: %v", err)
	}
	within(t, 30*time.Second, "three current replicas", func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs != 50 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("state %+v cluster %+v", info.State, info.Cluster)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				return fmt.Errorf("replica %+v", *r)
			}
		}
		return nil
	})
}
