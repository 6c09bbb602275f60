package servercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/starling-mq/starling/server"
)

// signalQueue is how many signals may wait while the server starts or
// handles one; more are dropped by os/signal, never fatal.
const signalQueue = 16

// shutdownTimeout bounds how long SIGINT/SIGTERM waits for clients to be
// flushed and closed.
const shutdownTimeout = 30 * time.Second

// reloadWait bounds how long a $SYS RELOAD request waits for the run loop
// to take it.
const reloadWait = 10 * time.Second

// Main runs `starling server` with args until a stop signal or ctx ends,
// and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		// One line per problem: a configuration file reports all of its
		// problems at once.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "starling server: %s\n", line)
		}
		if errors.Is(err, errUsage) {
			fmt.Fprintln(stderr, "Run 'starling server --help' for the options.")
		}
		return 1
	}
	cfg, err := Parse(args)
	if err != nil {
		return fail(err)
	}
	switch {
	case cfg.Help:
		fmt.Fprint(stdout, Usage())
		return 0
	case cfg.HelpTLS:
		fmt.Fprint(stdout, TLSHelp())
		return 0
	case cfg.Version:
		fmt.Fprintf(stdout, "starling: v%s\n", server.Version())
		return 0
	case cfg.Signal != "":
		if err := sendSignal(cfg.Signal); err != nil {
			return fail(err)
		}
		return 0
	case cfg.Check:
		return check(cfg, stderr)
	}

	// Signals first: until Notify, the Go runtime's default for HUP, USR1
	// and USR2 is to terminate the process, and an operator or a script
	// may signal as soon as the pid file appears or the port answers. A
	// signal that arrives while the server is starting waits in the
	// channel and is handled once it runs.
	sigs := make(chan os.Signal, signalQueue)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	logs, err := newLogging(cfg, stderr)
	if err != nil {
		return fail(err)
	}
	defer logs.close()
	log := logs.logger
	for _, w := range cfg.Warnings {
		log.Warn("configuration: " + w)
	}
	cfg.Opts.Logger = log
	srv, err := server.NewFromConfig(cfg.Opts)
	if err != nil {
		return fail(err)
	}
	pid := &pidFile{}
	if err := pid.set(cfg.PidFile); err != nil {
		return fail(err)
	}
	defer func() {
		if err := pid.set(""); err != nil {
			log.Warn("remove pid file", "err", err)
		}
	}()
	// The profiler's port is bound before the server starts, so a port in
	// use fails the start (as in nats-server) before streams are opened.
	stopProfile, err := startProfiler(cfg.Profile, log)
	if err != nil {
		return fail(err)
	}
	defer stopProfile()
	// A $SYS RELOAD request reloads as SIGHUP does, on this loop, so the
	// two never run at once.
	reloads := make(chan chan error)
	stopping := make(chan struct{}) // closed once the loop stops taking reloads
	var stopOnce sync.Once
	stopReloads := func() { stopOnce.Do(func() { close(stopping) }) }
	defer stopReloads()
	srv.SetReloadHandler(func() error {
		done := make(chan error, 1)
		select {
		case reloads <- done:
			return <-done
		case <-stopping:
			return errors.New("configuration reload not started: the server is stopping")
		case <-time.After(reloadWait):
			return errors.New("configuration reload not started: the server is busy")
		}
	})
	if err := srv.Start(); err != nil {
		return fail(err)
	}

	lameDuck := make(chan error, 1)
	inLameDuck := false
	for {
		select {
		case <-ctx.Done():
			stopReloads()
			return shutdown(srv, log, "context done")
		case err := <-lameDuck:
			if err != nil {
				log.Error("lame duck shutdown incomplete", "err", err)
				return 1
			}
			return 0
		case done := <-reloads:
			err := reload(args, srv, logs, pid)
			if err != nil {
				log.Error("configuration reload failed; nothing changed", "err", err)
			}
			done <- err
		case sig := <-sigs:
			log.Info("trapped signal", "signal", sig.String())
			switch sig {
			case syscall.SIGINT:
				stopReloads()
				return shutdown(srv, log, sig.String())
			case syscall.SIGTERM:
				// During lame duck, as in nats-server, TERM lets it finish.
				if !inLameDuck {
					stopReloads()
					return shutdown(srv, log, sig.String())
				}
			case syscall.SIGUSR2:
				if !inLameDuck {
					inLameDuck = true
					go func() { lameDuck <- srv.LameDuck(context.Background()) }()
				}
			case syscall.SIGUSR1:
				if err := logs.reopen(); err != nil {
					log.Error("reopen log file", "err", err)
				}
			case syscall.SIGHUP:
				if err := reload(args, srv, logs, pid); err != nil {
					log.Error("configuration reload failed; nothing changed", "err", err)
				}
			}
		}
	}
}

// check implements -t: parse and validate the configuration file, as
// nginx -t and nats-server -t do, without starting anything.
func check(cfg *Config, stderr io.Writer) int {
	if cfg.ConfigFile == "" {
		fmt.Fprintln(stderr, "starling server: must specify [-c, --config] option to check configuration file syntax")
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "starling server: warning: %s\n", w)
	}
	if _, err := server.NewFromConfig(cfg.Opts); err != nil {
		fmt.Fprintf(stderr, "starling server: %s: %v\n", cfg.ConfigFile, err)
		return 1
	}
	fmt.Fprintf(stderr, "starling server: configuration file %s is valid\n", cfg.ConfigFile)
	return 0
}

// reload re-reads the command line and configuration file and applies
// them: logging here, everything else in the server.
func reload(args []string, srv *server.Server, logs *logging, pid *pidFile) error {
	cfg, err := Parse(args)
	if err != nil {
		return err
	}
	if cfg.ConfigFile == "" {
		return errors.New("no configuration file to reload (start with -c)")
	}
	for _, w := range cfg.Warnings {
		logs.logger.Warn("configuration: " + w)
	}
	cfg.Opts.Logger = logs.logger
	if err := srv.ReloadConfig(cfg.Opts); err != nil {
		return err
	}
	// As in nats-server, a new pid_file is written at once.
	return errors.Join(logs.apply(cfg), pid.set(cfg.PidFile))
}

func shutdown(srv *server.Server, log *slog.Logger, why string) int {
	log.Info("shutting down", "reason", why)
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown incomplete", "err", err)
		return 1
	}
	return 0
}

// startProfiler serves net/http/pprof on loopback when port is set.
func startProfiler(port int, log *slog.Logger) (stop func(), err error) {
	if port == 0 {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("profiler: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiler stopped", "err", err)
		}
	}()
	log.Info("profiling listening", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() {
		_ = hs.Close()
		<-done
	}, nil
}
