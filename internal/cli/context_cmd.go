package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
)

// `starling context …` manages the contexts the nats CLI also reads (see
// contexts.go for the files), so `starling context add` and `nats context
// add` make the same file and either tool can select it.

var contextActions = []action{
	{name: "add", about: "Create a context, or change one", run: runContextAdd, aliases: []string{"create", "save"}},
	{name: "ls", about: "List the contexts, marking the selected one with *", run: runContextLs, aliases: []string{"list"}},
	{name: "show", about: "Show a context's settings (the selected one without a name)", run: runContextShow, aliases: []string{"info"}},
	{name: "select", about: "Make a context the one every command uses", run: runContextSelect, aliases: []string{"switch"}},
	{name: "unselect", about: "Select no context", run: runContextUnselect},
	{name: "rm", about: "Delete a context", run: runContextRm, aliases: []string{"remove"}},
}

func runContext(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "context", contextActions, args)
}

// contextCmd parses a context action's flags and checks its arguments.
func contextCmd(e *env, args []string, act, synopsis, about string, minN, maxN int, extra func(*flagSet)) ([]string, error) {
	f := newFlagSet("context "+act, synopsis, about)
	if extra != nil {
		extra(f)
	}
	pos, err := parseOrHelp(e, f, args)
	if err != nil {
		return nil, err
	}
	if err := f.checkArgs(pos, minN, maxN); err != nil {
		return nil, err
	}
	for _, n := range pos {
		if err := validContextName(n); err != nil {
			return nil, usageErrorf("%v", err)
		}
	}
	return pos, nil
}

// contextAddOpts are `context add`'s flags: the settings to record and
// what to start from.
type contextAddOpts struct {
	settings    connLayer
	description string
	selectIt    bool
	from        string
}

func runContextAdd(_ context.Context, e *env, args []string) error {
	var o contextAddOpts
	var f *flagSet
	pos, err := contextCmd(e, args, "add", "<name>",
		"Create a context, or change an existing one: the settings given are recorded and\n"+
			"the others keep their values. Credentials replace the recorded ones as a whole,\n"+
			"as do --tlscert with --tlskey. Environment variables are not recorded.", 1, 1,
		func(fs *flagSet) {
			f = fs
			fs.stringVar(&o.description, "description", "", "TEXT", "", "a description shown by ls")
			fs.boolVar(&o.selectIt, "select", "", "select the context once saved")
			fs.stringVar(&o.from, "context", "", "NAME", "", "start a new context as a copy of this one")
			addServerFlags(fs, &o.settings, "Connection")
			addJSFlags(fs, &o.settings, "Connection")
		})
	if err != nil {
		return err
	}
	name := pos[0]
	store := newContextStore(e.getenv)
	c, err := contextToUpdate(store, name, o.from)
	if err != nil {
		return err
	}
	if f.isSet("server") && strings.TrimSpace(o.settings.url) == "" {
		return usageErrorf("--server must not be empty")
	}
	applyToContext(c, o.settings, o.description)
	if err := checkContext(name, c, e.refs()); err != nil {
		return err
	}
	if err := store.save(name, c); err != nil {
		return fmt.Errorf("save context %s: %w", name, err)
	}
	if o.selectIt {
		if err := store.setSelected(name); err != nil {
			return fmt.Errorf("select context %s: %w", name, err)
		}
	}
	return showContext(e, store, name, c)
}

// contextToUpdate is what `add` starts from: the existing context of that
// name, else a copy of --context, else an empty one.
func contextToUpdate(store contextStore, name, from string) (*natsContext, error) {
	switch {
	case store.exists(name) && from != "" && from != name:
		return nil, usageErrorf("context %s exists: --context copies only into a new context", name)
	case store.exists(name):
		return store.load(name)
	case from != "":
		c, err := loadNamedContext(store, from)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return &natsContext{}, nil
}

// applyToContext records the given settings. A user without a password is
// a token, as the nats CLI records it.
func applyToContext(c *natsContext, l connLayer, description string) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Description, description)
	set(&c.URL, l.url)
	set(&c.CA, l.ca)
	set(&c.InboxPrefix, l.inboxPrefix)
	set(&c.JSDomain, l.jsDomain)
	set(&c.JSAPIPrefix, l.jsAPIPrefix)
	c.TLSFirst = c.TLSFirst || l.tlsFirst
	if l.hasAuth() {
		if l.user != "" && l.password == "" && l.token == "" {
			l.token, l.user = l.user, ""
		}
		c.User, c.Password, c.Token = l.user, l.password, l.token
		c.Creds, c.NKey, c.UserJWT, c.UserSeed = l.creds, l.nkey, l.jwt, l.seed
	}
	if l.hasClientCert() {
		c.Cert, c.Key = l.cert, l.key
	}
}

// checkContext refuses a context no tool could connect with (two kinds of
// credentials, a certificate without its key) and, as the nats CLI does,
// TLS files that do not exist.
func checkContext(name string, c *natsContext, r refResolver) error {
	l := connLayer{
		url: c.URL, user: c.User, password: c.Password, token: c.Token, creds: c.Creds, nkey: c.NKey,
		jwt: c.UserJWT, seed: c.UserSeed, cert: c.Cert, key: c.Key, ca: c.CA,
		jsDomain: c.JSDomain, jsAPIPrefix: c.JSAPIPrefix,
	}
	if _, err := l.finish(); err != nil {
		return fmt.Errorf("context %s: %w", name, err)
	}
	for _, f := range []struct{ flag, ref string }{{"tlscert", c.Cert}, {"tlskey", c.Key}, {"tlsca", c.CA}} {
		if f.ref != "" && r.fileStatus(f.ref) != "OK" {
			return fmt.Errorf("context %s: --%s %s: file %s", name, f.flag, f.ref, r.fileStatus(f.ref))
		}
	}
	return nil
}

func runContextLs(_ context.Context, e *env, args []string) error {
	var namesOnly bool
	if _, err := contextCmd(e, args, "ls", "", "List the contexts; * marks the selected one.", 0, 0, func(f *flagSet) {
		f.boolVar(&namesOnly, "names", "n", "print names only")
	}); err != nil {
		return err
	}
	store := newContextStore(e.getenv)
	names, err := store.list()
	if err != nil {
		return err
	}
	if namesOnly {
		if len(names) == 0 {
			return nil
		}
		_, err = io.WriteString(e.stdout, strings.Join(names, "\n")+"\n")
		return err
	}
	selected := store.selected()
	rows := make([][2]string, 0, len(names))
	for _, n := range names {
		desc := ""
		if c, err := store.load(n); err != nil {
			desc = "(unreadable: " + err.Error() + ")"
		} else {
			desc = c.Description
		}
		if n == selected {
			n += "*"
		}
		rows = append(rows, [2]string{n, desc})
	}
	_, err = io.WriteString(e.stdout, contextTable(rows))
	return err
}

// contextTable is `context ls`'s table.
func contextTable(rows [][2]string) string {
	if len(rows) == 0 {
		return "No contexts defined\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	return trimLines(b.String())
}

func runContextShow(ctx context.Context, e *env, args []string) error {
	var asJSON, tryConnect bool
	var f *flagSet
	timeout := 5 * time.Second
	pos, err := contextCmd(e, args, "show", "[name]",
		"Show a context's settings, the selected context's without a name. Passwords and\n"+
			"tokens are masked, except with --json, which prints the file.", 0, 1, func(fs *flagSet) {
			f = fs
			fs.boolVar(&asJSON, "json", "", "print the context file's JSON")
			fs.boolVar(&tryConnect, "connect", "", "also connect with the context and report the result")
			fs.durationVar(&timeout, "timeout", "", timeout, "time allowed to connect with --connect")
		})
	if err != nil {
		return err
	}
	switch {
	case f.isSet("timeout") && !tryConnect:
		return usageErrorf("--timeout is for --connect")
	case asJSON && tryConnect:
		return usageErrorf("--json prints the file only: it cannot be combined with --connect")
	}
	store := newContextStore(e.getenv)
	name := store.selected()
	if len(pos) == 1 {
		name = pos[0]
	}
	if name == "" {
		return errors.New("no context is selected: name one, or select one with 'starling context select'")
	}
	c, err := store.load(name)
	if err != nil {
		return err
	}
	if asJSON {
		b, err := c.marshal()
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(append(b, '\n'))
		return err
	}
	if err := showContext(e, store, name, c); err != nil {
		return err
	}
	if !tryConnect {
		return nil
	}
	if timeout <= 0 {
		return usageErrorf("--timeout must be greater than zero")
	}
	return connectWithContext(ctx, e, name, c, timeout)
}

// showContext prints the context's settings, and a warning when NATS_*
// variables would override them for other commands.
func showContext(e *env, store contextStore, name string, c *natsContext) error {
	if _, err := io.WriteString(e.stdout, contextText(name, store.selected() == name, store.path(name), c, e.refs())); err != nil {
		return err
	}
	if over := envOverrides(e.getenv); len(over) > 0 {
		e.logf("warning: %s set in the environment, overriding the context for other commands", strings.Join(over, ", "))
	}
	return nil
}

// envOverrides lists the NATS_* variables that take precedence over a
// context.
func envOverrides(getenv func(string) string) []string {
	var set []string
	for _, k := range []string{"NATS_URL", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN", "NATS_CREDS", "NATS_NKEY",
		"NATS_JWT", "NATS_SEED", "NATS_CERT", "NATS_KEY", "NATS_CA", "NATS_TIMEOUT"} {
		if getenv(k) != "" {
			set = append(set, k)
		}
	}
	return set
}

// contextText is `context show`'s report: the settings that are set,
// secrets masked, file references with their state.
func contextText(name string, selected bool, path string, c *natsContext, r refResolver) string {
	var b strings.Builder
	title := "Context " + name
	if selected {
		title += " (selected)"
	}
	b.WriteString(title + "\n\n")
	s := newSection(&b, "Settings")
	row := func(k, v string) {
		if v != "" {
			s.row(k, v)
		}
	}
	file := func(k, ref string) {
		if ref != "" {
			shown := ref
			if refScheme(ref) == "data" {
				shown = "embedded data"
			}
			s.row(k, fmt.Sprintf("%s (%s)", shown, r.fileStatus(ref)))
		}
	}
	secret := func(k, v string) {
		if v != "" {
			s.row(k, maskSecret(v))
		}
	}
	row("Description", c.Description)
	row("Server URLs", redactURLs(c.URL))
	row("User", c.User)
	secret("Password", c.Password)
	secret("Token", c.Token)
	file("Credentials", c.Creds)
	file("NKey", c.NKey)
	secret("User JWT", c.UserJWT)
	secret("User seed", c.UserSeed)
	file("Certificate", c.Cert)
	file("Key", c.Key)
	file("CA", c.CA)
	if c.TLSFirst {
		s.row("TLS first", "true")
	}
	row("JetStream domain", c.JSDomain)
	row("JetStream API prefix", c.JSAPIPrefix)
	row("JetStream event prefix", c.JSEventPrefix)
	row("Inbox prefix", c.InboxPrefix)
	row("SOCKS proxy", notSupported(c.SocksProxy))
	row("nsc lookup", notSupported(c.NSCLookup))
	row("Windows cert store", notSupported(c.WinCertStoreType))
	row("Path", path)
	s.end()
	return b.String()
}

// maskSecret hides a secret but shows where a reference points.
func maskSecret(v string) string {
	switch refScheme(v) {
	case "env", "file", "op", "nsc":
		return v
	case "data":
		return "embedded data"
	}
	return "********"
}

func notSupported(v string) string {
	if v == "" {
		return ""
	}
	return v + " (not supported by starling)"
}

// connectWithContext connects with only the context's settings (no flags,
// no environment) to check them.
func connectWithContext(ctx context.Context, e *env, name string, c *natsContext, timeout time.Duration) error {
	l, err := contextLayer(name, c)
	if err != nil {
		return err
	}
	if l, err = l.finish(); err != nil {
		return fmt.Errorf("context %s: %w", name, err)
	}
	cf := &connFlags{e: e, settings: l, timeout: timeout, contextUsed: name, resolved: true}
	if cf.opts, err = settingsOptions(l, e.refs()); err != nil {
		return fmt.Errorf("context %s: %w", name, err)
	}
	nc, err := cf.connect("starling-context", nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := nc.FlushTimeout(timeout); err != nil {
		return fmt.Errorf("connected to %s, but the server did not answer a ping: %w", nc.ConnectedUrlRedacted(), err)
	}
	_, err = fmt.Fprintf(e.stdout, "\nConnected to %s (server %s, version %s)\n", nc.ConnectedUrlRedacted(), nc.ConnectedServerName(), nc.ConnectedServerVersion())
	return err
}

func runContextSelect(_ context.Context, e *env, args []string) error {
	pos, err := contextCmd(e, args, "select", "<name>", "Select a context: commands use it unless --context or --no-context says otherwise.", 1, 1, nil)
	if err != nil {
		return err
	}
	store := newContextStore(e.getenv)
	c, err := store.load(pos[0])
	if err != nil {
		return err
	}
	if err := store.setSelected(pos[0]); err != nil {
		return err
	}
	return showContext(e, store, pos[0], c)
}

func runContextUnselect(_ context.Context, e *env, args []string) error {
	if _, err := contextCmd(e, args, "unselect", "", "Select no context: commands use only flags, NATS_* variables and defaults.", 0, 0, nil); err != nil {
		return err
	}
	store := newContextStore(e.getenv)
	prev := store.selected()
	if err := store.setSelected(""); err != nil {
		return err
	}
	if prev == "" {
		_, err := io.WriteString(e.stdout, "No context was selected\n")
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "Unselected context %s\n", prev)
	return err
}

func runContextRm(_ context.Context, e *env, args []string) error {
	var force bool
	pos, err := contextCmd(e, args, "rm", "<name>", "Delete a context; deleting the selected one also unselects it.", 1, 1, func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really delete (required)")
	})
	if err != nil {
		return err
	}
	name := pos[0]
	if !force {
		return usageErrorf("context rm deletes context %s: add --force to confirm", name)
	}
	store := newContextStore(e.getenv)
	if err := store.remove(name); err != nil {
		return err
	}
	if store.selected() == name {
		if err := store.setSelected(""); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted context %s\n", name)
	return err
}
