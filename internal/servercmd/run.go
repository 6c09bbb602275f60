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
	"syscall"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/server"
)

// Usage is the `starling server` help text.
const Usage = `Usage: starling server [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -DV                              Debug and trace

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

Limits (nats-server reads these from its config file):
        --max_payload <size>         Maximum message size (default: 1MB)
        --max_pending <size>         Maximum bytes buffered for a client (default: 64MB)
        --max_control_line <size>    Maximum protocol line length (default: 4KB)
        --max_connections <n>        Maximum client connections (default: 65536)
        --max_subscriptions <n>      Maximum subscriptions per connection (default: unlimited)
        --ping_interval <duration>   Interval between server PINGs (default: 2m)
        --ping_max <n>               Unanswered PINGs before a client is stale (default: 2)
        --write_deadline <duration>  Time a socket write may take (default: 10s)
        --auth_timeout <duration>    Time allowed to authenticate (default: 2s)

Profiling Options:
        --profile <port>             Profiling HTTP port (loopback only)

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version

Configuration files, TLS, clustering and JetStream flags are recognised and
refused with a clear message until Starling supports them.
`

// shutdownTimeout bounds how long SIGINT/SIGTERM waits for clients to be
// flushed and closed.
const shutdownTimeout = 30 * time.Second

// Main runs `starling server` with args until a stop signal or ctx ends,
// and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := Parse(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starling server: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprintln(stderr, "Run 'starling server --help' for the options.")
		}
		return 1
	}
	if cfg.Help {
		fmt.Fprint(stdout, Usage)
		return 0
	}
	if cfg.Version {
		fmt.Fprintf(stdout, "starling: v%s\n", core.Version)
		return 0
	}
	if cfg.Signal != "" {
		if err := sendSignal(cfg.Signal); err != nil {
			fmt.Fprintf(stderr, "starling server: %v\n", err)
			return 1
		}
		return 0
	}
	logOut := stderr
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			fmt.Fprintf(stderr, "starling server: open log file: %v\n", err)
			return 1
		}
		defer f.Close()
		logOut = f
	}
	log := newLogger(logOut, cfg)
	cfg.Opts.Logger = log
	srv, err := server.New(&cfg.Opts)
	if err != nil {
		fmt.Fprintf(stderr, "starling server: %v\n", err)
		return 1
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintf(stderr, "starling server: write pid file: %v\n", err)
			return 1
		}
		defer os.Remove(cfg.PidFile)
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintf(stderr, "starling server: %v\n", err)
		return 1
	}
	stopProfile := startProfiler(cfg.Profile, log)
	defer stopProfile()

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	h := &signalHandler{log: log}
	lameDuck := make(chan error, 1)
	inLameDuck := false
	for {
		select {
		case <-ctx.Done():
			return shutdown(srv, log, "context done")
		case err := <-lameDuck:
			if err != nil {
				log.Error("lame duck shutdown incomplete", "err", err)
				return 1
			}
			return 0
		case sig := <-sigs:
			log.Info("trapped signal", "signal", sig.String())
			switch sig {
			case syscall.SIGINT:
				return shutdown(srv, log, sig.String())
			case syscall.SIGTERM:
				// During lame duck, as in nats-server, TERM lets it finish.
				if !inLameDuck {
					return shutdown(srv, log, sig.String())
				}
			case syscall.SIGUSR2:
				if !inLameDuck {
					inLameDuck = true
					go func() { lameDuck <- srv.LameDuck(context.Background()) }()
				}
			default:
				h.handle(sig)
			}
		}
	}
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

func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	if cfg.Trace {
		level = core.LevelTrace
	}
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				if !cfg.LogTime {
					return slog.Attr{}
				}
			case slog.LevelKey:
				if l, ok := a.Value.Any().(slog.Level); ok && l == core.LevelTrace {
					return slog.String(slog.LevelKey, "TRACE")
				}
			}
			return a
		},
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// startProfiler serves net/http/pprof on loopback when port is set.
func startProfiler(port int, log *slog.Logger) func() {
	if port == 0 {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiler stopped", "err", err)
		}
	}()
	log.Info("profiling listening", "addr", "http://"+hs.Addr+"/debug/pprof/")
	return func() { _ = hs.Close() }
}

// signalHandler acts on reload (HUP) and log reopen (USR1).
type signalHandler struct {
	log *slog.Logger
}

func (h *signalHandler) handle(sig os.Signal) {
	h.log.Warn("signal not supported yet; ignored", "signal", sig.String())
}
