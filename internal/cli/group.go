package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// action is one subcommand of a command group (consumer, kv, object).
type action struct {
	name, about string
	run         func(ctx context.Context, e *env, args []string) error
	aliases     []string // other names the nats CLI uses for it
}

// runGroup dispatches args[0] to one of actions; --help lists them.
func runGroup(ctx context.Context, e *env, group string, actions []action, args []string) error {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
	}
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help") {
		return usageErrorf("missing action: %s", strings.Join(names, ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		var b strings.Builder
		fmt.Fprintf(&b, "Usage: starling %s <action> [flags]\n\nActions:\n", group)
		width := 0
		for _, a := range actions {
			width = max(width, len(a.name))
		}
		for _, a := range actions {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, a.name, a.about)
		}
		fmt.Fprintf(&b, "\n'starling %s <action> --help' shows an action's flags.\n", group)
		if _, err := fmt.Fprint(e.stdout, b.String()); err != nil {
			return err
		}
		return errHelp
	}
	for _, a := range actions {
		if a.name == args[0] || slices.Contains(a.aliases, args[0]) {
			return a.run(ctx, e, args[1:])
		}
	}
	return usageErrorf("unknown %s action %q (%s)", group, args[0], strings.Join(names, ", "))
}

// groupCmd parses a group action's flags: the connection flags plus extra.
func groupCmd(e *env, args []string, group, act, synopsis, about string, extra func(*flagSet)) (*connFlags, []string, error) {
	c := &connFlags{}
	f := newFlagSet(group+" "+act, synopsis, about)
	addJSConnFlags(f, c, e)
	if extra != nil {
		extra(f)
	}
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, nil, err
	}
	return c, pos, c.validate()
}
