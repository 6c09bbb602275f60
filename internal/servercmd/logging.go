package servercmd

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/logfile"
	"github.com/starling-mq/starling/server"
)

// logging is the server's logger with the settings a reload can change:
// level, timestamps and destination.
type logging struct {
	logger  *slog.Logger
	level   slog.LevelVar
	logTime atomic.Bool
	utc     atomic.Bool
	out     switchWriter
	stderr  io.Writer

	file     *logfile.File // nil when logging to stderr
	filePath string
}

func newLogging(cfg *Config, stderr io.Writer) (*logging, error) {
	l := &logging{stderr: stderr}
	l.out.w = stderr
	if err := l.apply(cfg); err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{
		Level: &l.level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				if !l.logTime.Load() {
					return slog.Attr{}
				}
				if l.utc.Load() {
					return slog.Time(slog.TimeKey, a.Value.Time().UTC())
				}
			case slog.LevelKey:
				if lv, ok := a.Value.Any().(slog.Level); ok && lv == server.LevelTrace {
					return slog.String(slog.LevelKey, "TRACE")
				}
			}
			return a
		},
	}
	l.logger = slog.New(slog.NewTextHandler(&l.out, opts))
	return l, nil
}

// apply sets level, timestamps and destination from cfg.
func (l *logging) apply(cfg *Config) error {
	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	if cfg.Trace {
		level = server.LevelTrace
	}
	l.level.Set(level)
	l.logTime.Store(cfg.LogTime)
	l.utc.Store(cfg.LogTimeUTC)
	if cfg.LogFile == l.filePath && l.file != nil {
		return nil
	}
	var next io.Writer = l.stderr
	var f *logfile.File
	if cfg.LogFile != "" {
		var err error
		f, err = logfile.Open(cfg.LogFile, cfg.LogSizeLimit, cfg.LogMaxFiles)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		next = f
	}
	old := l.file
	l.out.set(next)
	l.file, l.filePath = f, cfg.LogFile
	if old != nil {
		return old.Close()
	}
	return nil
}

// reopen reopens the log file, for rotation by an outside tool (SIGUSR1).
func (l *logging) reopen() error {
	if l.file == nil {
		return nil
	}
	return l.file.Reopen()
}

func (l *logging) close() {
	if l.file != nil {
		_ = l.file.Close()
	}
}

// switchWriter is an io.Writer whose destination can change while in use.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}
