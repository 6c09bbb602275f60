// Package cli holds Starling's client tools: pub, sub, req, reply and bench.
// They are built only on the public nats.go client, never on server
// internals, so they work against any NATS-compatible server and can be
// used to compare Starling with nats-server.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
)

// command is one subcommand. run parses args itself so each command owns
// its flags; it returns errHelp, a *usageError, or any other error.
type command struct {
	name  string
	about string
	run   func(ctx context.Context, e *env, args []string) error
}

// commands is the table Run dispatches on; Names lists it for main's usage.
var commands = []command{
	{"pub", "Publish messages", runPub},
	{"sub", "Subscribe and print messages", runSub},
	{"req", "Send a request and print the replies", runReq},
	{"reply", "Answer requests", runReply},
	{"bench", "Measure throughput and latency", runBench},
	{"stream", "Manage JetStream streams (add, info, ls, rm, purge, get, view)", runStream},
	{"consumer", "Manage and read JetStream consumers (add, info, ls, rm, next, sub)", runConsumer},
	{"kv", "Use Key-Value buckets (add, put, get, del, purge, ls, watch, history, rm)", runKV},
	{"object", "Use Object Store buckets (put, get, ls, rm, info)", runObject},
	{"context", "Manage connection contexts, shared with the nats CLI (add, ls, show, select, unselect, rm)", runContext},
	{"passwd", "Print a bcrypt hash of a password", runPasswd},
	{"nkey", "Generate NKey pairs", runNkey},
}

// Names lists the client subcommands, in the order of the usage text.
func Names() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// env is the outside world a command sees. Run fills it from the process;
// tests fill it with buffers and a fake stdin.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// stdinPiped is true when stdin is a pipe or file rather than a
	// terminal (or /dev/null): pub then reads its body from it.
	stdinPiped bool
	// stderrTTY is true when stderr is a terminal: bench draws progress.
	stderrTTY bool
	getenv    func(string) string
	// quiet (-q) drops status lines; results, warnings and errors stay.
	quiet bool
}

// Run runs the client subcommand name ("pub", "sub", "req", "reply",
// "bench") with args (the arguments after the subcommand), writing to
// stdout/stderr; it returns the process exit code: 0 on success, 1 on any
// error, after a one-line message on stderr.
func Run(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	e := &env{
		stdout:     stdout,
		stderr:     stderr,
		stdin:      os.Stdin,
		stdinPiped: !isCharDevice(os.Stdin),
		stderrTTY:  isTerminalWriter(stderr),
		getenv:     processEnv,
	}
	return run(ctx, e, name, args)
}

func run(ctx context.Context, e *env, name string, args []string) int {
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args)
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "starling %s: %v (see 'starling %s --help')\n", name, err, name)
		default:
			fmt.Fprintf(e.stderr, "starling %s: %v\n", name, err)
		}
		return 1
	}
	fmt.Fprintf(e.stderr, "starling: unknown client command %q\n", name)
	return 1
}

// parseOrHelp parses args with f; on -h/--help it prints the usage text to
// stdout and returns errHelp so the command stops with exit code 0.
func parseOrHelp(e *env, f *flagSet, args []string) ([]string, error) {
	pos, err := f.parse(args)
	if errors.Is(err, errHelp) {
		if werr := f.usage(e.stdout); werr != nil {
			return nil, werr
		}
	}
	return pos, err
}

// processEnv is os.Getenv, with HOME found from the user database when
// the variable is unset, as the nats CLI finds its contexts.
func processEnv(k string) string {
	v := os.Getenv(k)
	if v == "" && k == "HOME" {
		if u, err := user.Current(); err == nil {
			v = u.HomeDir
		}
	}
	return v
}

// refs resolves credential references with this environment.
func (e *env) refs() refResolver {
	return refResolver{getenv: e.getenv, home: e.getenv("HOME")}
}

// status writes a line saying what the command is doing ("Subscribing
// on ..."); -q drops it. Results go to stdout, never through here.
func (e *env) status(format string, a ...any) {
	if !e.quiet {
		e.logf(format, a...)
	}
}

// logf writes a warning or status line to stderr, even with -q. Its write error is deliberately
// dropped: with stderr gone there is nowhere left to report it, and the
// command's real output on stdout is checked where it is written.
func (e *env) logf(format string, a ...any) {
	_, _ = fmt.Fprintf(e.stderr, format+"\n", a...)
}

// isCharDevice reports whether f is a terminal or another character device
// such as /dev/null; both mean "no piped input".
func isCharDevice(f *os.File) bool {
	st, err := f.Stat()
	return err != nil || st.Mode()&os.ModeCharDevice != 0
}

// isTerminalWriter reports whether w is an *os.File on a character device.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
