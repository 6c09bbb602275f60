// Command starling is a NATS-protocol message server and its client tools.
//
//	starling server [options]      run the server (nats-server's flags)
//	starling pub|sub|req|reply ... client tools
//	starling bench ...             throughput and latency benchmark
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/starling-mq/starling/internal/cli"
	"github.com/starling-mq/starling/internal/servercmd"
	"github.com/starling-mq/starling/server"
)

const usage = `Starling: a NATS-compatible message server.

Usage:
  starling server [options]       Run the server (see 'starling server --help')
  starling pub <subject> [body]   Publish messages
  starling sub <subject>          Subscribe and print messages
  starling req <subject> [body]   Send a request and print the reply
  starling reply <subject> [body] Answer requests
  starling bench <subject>        Measure throughput and latency
  starling stream <action>        Manage JetStream streams: add, info, ls, rm, purge, get, view
  starling consumer <action>      Manage and read consumers: add, info, ls, rm, next, sub
  starling kv <action>            Key-Value buckets: add, put, get, del, purge, ls, watch, history, rm
  starling object <action>        Object Store buckets: put, get, ls, rm, info
  starling context <action>       Connection contexts shared with the nats CLI: add, ls, show, select, unselect, rm
  starling passwd                 Print a bcrypt hash of a password
  starling nkey gen user          Generate an NKey pair
  starling --version              Show the version

Options starting with '-' and no command run the server, as nats-server does.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	switch cmd := args[0]; {
	case cmd == "-v" || cmd == "--version" || cmd == "-version" || cmd == "version":
		fmt.Fprintf(stdout, "starling: v%s\n", server.Version())
		return 0
	case cmd == "-h" || cmd == "--help" || cmd == "-help" || cmd == "help":
		fmt.Fprint(stdout, usage)
		return 0
	case cmd == "server":
		return servercmd.Main(context.Background(), args[1:], stdout, stderr)
	case strings.HasPrefix(cmd, "-"):
		return servercmd.Main(context.Background(), args, stdout, stderr)
	case isClientCommand(cmd):
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return cli.Run(ctx, cmd, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "starling: unknown command %q\n\n%s", cmd, usage)
		return 1
	}
}

func isClientCommand(name string) bool {
	for _, n := range cli.Names() {
		if n == name {
			return true
		}
	}
	return false
}
