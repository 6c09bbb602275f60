package raftnode

import (
	"context"
	"fmt"
	"log/slog"
)

// raftLogger routes etcd raft's log lines to slog. Raft's info lines
// (elections, term changes) go to Debug: with many groups per server they
// would drown everything else.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) logf(level slog.Level, format string, v ...any) {
	if r.l.Enabled(context.Background(), level) {
		r.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

func (r raftLogger) Debug(v ...any)                   { r.logf(slog.LevelDebug, "%s", fmt.Sprint(v...)) }
func (r raftLogger) Debugf(format string, v ...any)   { r.logf(slog.LevelDebug, format, v...) }
func (r raftLogger) Info(v ...any)                    { r.logf(slog.LevelDebug, "%s", fmt.Sprint(v...)) }
func (r raftLogger) Infof(format string, v ...any)    { r.logf(slog.LevelDebug, format, v...) }
func (r raftLogger) Warning(v ...any)                 { r.logf(slog.LevelWarn, "%s", fmt.Sprint(v...)) }
func (r raftLogger) Warningf(format string, v ...any) { r.logf(slog.LevelWarn, format, v...) }
func (r raftLogger) Error(v ...any)                   { r.logf(slog.LevelError, "%s", fmt.Sprint(v...)) }
func (r raftLogger) Errorf(format string, v ...any)   { r.logf(slog.LevelError, format, v...) }

// Fatal and Panic mean raft found its invariants broken; continuing would
// risk the data, so they panic as raft's own default logger does.
func (r raftLogger) Fatal(v ...any) { r.Panic(v...) }
func (r raftLogger) Fatalf(format string, v ...any) {
	r.Panicf(format, v...)
}
func (r raftLogger) Panic(v ...any) {
	s := fmt.Sprint(v...)
	r.l.Error(s)
	panic(s)
}
func (r raftLogger) Panicf(format string, v ...any) {
	s := fmt.Sprintf(format, v...)
	r.l.Error(s)
	panic(s)
}
