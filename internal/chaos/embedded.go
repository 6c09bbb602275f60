package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"

	"github.com/starling-mq/starling/server"
)

// ServerOptions is the Spec as options for an embedded server: the same
// settings as its configuration file.
func (s *Spec) ServerOptions() (*server.Options, error) {
	var routes []*url.URL
	for _, r := range s.Routes {
		u, err := url.Parse("nats-route://" + r)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r, err)
		}
		routes = append(routes, u)
	}
	return &server.Options{
		ServerName:              s.Name,
		Host:                    "127.0.0.1",
		Port:                    s.ClientPort,
		HTTPPort:                s.HTTPPort,
		PingInterval:            s.PingInterval,
		PingMax:                 s.PingMax,
		WriteDeadline:           s.WriteDeadline,
		JetStream:               s.StoreDir != "",
		StoreDir:                s.StoreDir,
		JetStreamCompactEntries: s.CompactEntries,
		Cluster: server.ClusterOptions{
			Name:           s.ClusterName,
			Host:           "127.0.0.1",
			Port:           s.ClusterPort,
			Advertise:      s.Advertise,
			Routes:         routes,
			ConnectRetries: 0,
			PingInterval:   s.PingInterval,
			PingMax:        s.PingMax,
			WriteDeadline:  s.WriteDeadline,
		},
	}, nil
}

// embedded is a server running in the test binary (package server).
// Kill shuts it down: an embedded server cannot vanish without closing
// its sockets, and cannot be stopped with a signal.
type embedded struct {
	spec  *Spec
	log   *logTail
	debug bool

	mu  sync.Mutex
	srv *server.Server
}

func (e *embedded) start() error {
	o, err := e.spec.ServerOptions()
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if e.debug {
		level = slog.LevelDebug
	}
	o.Logger = slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: level}))
	fmt.Fprintf(e.log, "--- chaos: starting embedded %s\n", e.spec.Name)
	s, err := server.New(o)
	if err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	e.mu.Lock()
	e.srv = s
	e.mu.Unlock()
	return nil
}

func (e *embedded) kill() error {
	e.mu.Lock()
	s := e.srv
	e.srv = nil
	e.mu.Unlock()
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	err := s.Shutdown(ctx)
	fmt.Fprintf(e.log, "--- chaos: embedded %s shut down: %v\n", e.spec.Name, err)
	return err
}

func (e *embedded) pause(bool) error {
	return errors.New("an embedded server cannot be stopped: use a cluster of processes")
}

func (e *embedded) alive() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv == nil {
		return errors.New("the server is shut down")
	}
	return nil
}

func (e *embedded) pid() int { return 0 }
