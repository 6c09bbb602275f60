package cli

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// defaultURL is used when no flag, environment variable or context names
// a server.
const defaultURL = "nats://127.0.0.1:4222"

// connFlags are the options every client command shares, named as in the
// nats CLI so muscle memory, scripts and contexts carry over. validate
// resolves them (flags over NATS_* variables over the context, see
// connsettings.go) and reads every credential file before connecting.
type connFlags struct {
	e  *env
	fs *flagSet

	flags     connLayer // as given on the command line
	context   string
	noContext bool
	name      string
	timeout   time.Duration
	quiet     bool

	// Set by validate.
	resolved    bool
	settings    connLayer
	contextUsed string // the context applied, for messages; "" for none
	opts        []nats.Option
}

// addServerFlags registers the flags a context can record, in the block
// of usage text named section.
func addServerFlags(f *flagSet, l *connLayer, section string) {
	prev := f.section
	f.section = section
	defer func() { f.section = prev }()
	f.stringVar(&l.url, "server", "s", "URL", "", "server URL(s), comma separated [NATS_URL] (default "+defaultURL+")")
	f.stringVar(&l.user, "user", "", "USER", "", "user name; alone, it is sent as a token [NATS_USER]")
	f.stringVar(&l.password, "password", "", "PASSWORD", "", "password of --user [NATS_PASSWORD]")
	f.stringVar(&l.token, "token", "", "TOKEN", "", "authentication token [NATS_TOKEN]")
	f.stringVar(&l.creds, "creds", "", "FILE", "", "user credentials file: a JWT and its NKey seed [NATS_CREDS]")
	f.stringVar(&l.nkey, "nkey", "", "FILE", "", "user NKey seed file [NATS_NKEY]")
	f.stringVar(&l.jwt, "jwt", "", "JWT", "", "user JWT, signed for with --seed [NATS_JWT]")
	f.stringVar(&l.seed, "seed", "", "SEED", "", "user NKey seed for --jwt [NATS_SEED]")
	f.stringVar(&l.cert, "tlscert", "", "FILE", "", "client certificate for mutual TLS [NATS_CERT]")
	f.stringVar(&l.key, "tlskey", "", "FILE", "", "private key of --tlscert [NATS_KEY]")
	f.stringVar(&l.ca, "tlsca", "", "FILE", "", "CA certificates that verify the server [NATS_CA]")
	f.boolVar(&l.tlsFirst, "tlsfirst", "", "start TLS before the server's greeting (servers with handshake_first)")
	f.alias("tls-first", "tlsfirst")
	f.stringVar(&l.inboxPrefix, "inbox-prefix", "", "PREFIX", "", "prefix of reply subjects instead of _INBOX")
}

// addJSFlags registers the flags that say where the JetStream API is, for
// the commands that use it.
func addJSFlags(f *flagSet, l *connLayer, section string) {
	prev := f.section
	f.section = section
	defer func() { f.section = prev }()
	f.stringVar(&l.jsDomain, "js-domain", "", "DOMAIN", "", "JetStream domain")
	f.alias("domain", "js-domain")
	f.stringVar(&l.jsAPIPrefix, "js-api-prefix", "", "PREFIX", "", "subject prefix of the JetStream API (imported from another account)")
}

// addJSConnFlags is addConnFlags for a command that uses JetStream.
func addJSConnFlags(f *flagSet, c *connFlags, e *env) {
	addConnFlags(f, c, e)
	addJSFlags(f, &c.flags, "Common")
}

// addConnFlags registers the shared flags of a command that connects.
func addConnFlags(f *flagSet, c *connFlags, e *env) {
	c.e, c.fs = e, f
	addServerFlags(f, &c.flags, "Common")
	prev := f.section
	f.section = "Common"
	defer func() { f.section = prev }()
	f.stringVar(&c.context, "context", "", "NAME", "", "use this context, not the selected one (see 'starling context') [NATS_CONTEXT]")
	f.boolVar(&c.noContext, "no-context", "", "use no context, not even the selected one")
	f.durationVar(&c.timeout, "timeout", "", 5*time.Second, "time allowed for replies and flushes; connecting gets at least 2s [NATS_TIMEOUT]")
	f.stringVar(&c.name, "name", "", "NAME", "", "connection name shown by the server's monitoring")
	f.alias("connection-name", "name")
	f.boolVar(&c.quiet, "quiet", "q", "print only results and errors, no status lines")
}

// validate checks the flags and resolves the settings: it loads the
// context and reads every credential and certificate file, so all of
// that fails here, before anything connects.
func (c *connFlags) validate() error {
	if c.timeout <= 0 {
		return usageErrorf("--timeout must be greater than zero")
	}
	if c.fs.isSet("server") && strings.TrimSpace(c.flags.url) == "" {
		return usageErrorf("--server must not be empty")
	}
	getenv := c.e.getenv
	if !c.fs.isSet("timeout") {
		d, err := envTimeout(getenv)
		if err != nil {
			return err
		}
		if d > 0 {
			c.timeout = d
		}
	}
	c.e.quiet = c.quiet
	env, err := envLayer(getenv)
	if err != nil {
		return err
	}
	ctxLayer, err := c.contextSettings()
	if err != nil {
		return err
	}
	if c.settings, err = mergeLayers(ctxLayer, env, c.flags).finish(); err != nil {
		return c.inContext(err)
	}
	if c.opts, err = settingsOptions(c.settings, c.e.refs()); err != nil {
		return c.inContext(err)
	}
	c.resolved = true
	return nil
}

// inContext adds the name of the context in use to an error about the
// settings, since some of them may have come from it.
func (c *connFlags) inContext(err error) error {
	if c.contextUsed == "" {
		return err
	}
	return fmt.Errorf("%w [context %s]", err, c.contextUsed)
}

// contextSettings loads the context that applies, if any.
func (c *connFlags) contextSettings() (connLayer, error) {
	getenv := c.e.getenv
	store := newContextStore(getenv)
	name, source := contextChoice(c.context, c.noContext, getenv, store.selected)
	if name == "" {
		return connLayer{}, nil
	}
	nc, err := loadNamedContext(store, name)
	if errors.Is(err, errContextNotFound) {
		switch source {
		case "selected":
			return connLayer{}, fmt.Errorf("%w; it is selected in %s: select another with 'starling context select', or use --no-context", err, store.selectedFile())
		case "NATS_CONTEXT":
			return connLayer{}, fmt.Errorf("%w; NATS_CONTEXT names it", err)
		}
	}
	if err != nil {
		return connLayer{}, err
	}
	c.contextUsed = name
	return contextLayer(name, nc)
}

// loadNamedContext loads a stored context, or, like the nats CLI, the
// file itself when name is the path of an existing .json file.
func loadNamedContext(store contextStore, name string) (*natsContext, error) {
	if strings.HasSuffix(name, ".json") {
		if st, err := os.Stat(name); err == nil && !st.IsDir() {
			return loadContextFile(name)
		}
	}
	return store.load(name)
}

// options turns the flags into nats.go options; extra ones come last so a
// command can override a default (reconnection, the error handler).
func (c *connFlags) options(defaultName string, extra ...nats.Option) []nats.Option {
	name := c.name
	if name == "" {
		name = defaultName
	}
	// A short --timeout is for replies; the nats CLI lets a connection
	// take nats.go's default two seconds whatever it says, and so do we,
	// so a busy machine does not turn a slow dial into a failure.
	opts := []nats.Option{nats.Name(name), nats.Timeout(max(c.timeout, nats.DefaultTimeout))}
	opts = append(opts, c.opts...)
	opts = append(opts, c.eventHandlers()...)
	return append(opts, extra...)
}

// eventHandlers report what happens to the connection on stderr, so a
// long-running command is never silently cut off.
func (c *connFlags) eventHandlers() []nats.Option {
	e := c.e
	return []nats.Option{
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil {
				return // closed by us
			}
			if nc.Opts.AllowReconnect {
				e.logf("Disconnected: %v; reconnecting", err)
			} else {
				e.logf("Disconnected: %v", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			e.logf("Reconnected to %s", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			e.logf("warning: %v", err)
		}),
	}
}

// connect dials the server; the error names the (redacted) URL so a
// mistyped address is obvious from the one-line message, with a hint for
// the TLS and authentication failures whose library text is cryptic.
func (c *connFlags) connect(defaultName string, extra ...nats.Option) (*nats.Conn, error) {
	if !c.resolved {
		if err := c.validate(); err != nil {
			return nil, err
		}
	}
	nc, err := nats.Connect(c.settings.url, c.options(defaultName, extra...)...)
	if err != nil {
		msg := fmt.Sprintf("connect to %s: %v", redactURLs(c.settings.url), err)
		if h := connectHint(err); h != "" {
			msg += " (" + h + ")"
		}
		if c.contextUsed != "" {
			msg += fmt.Sprintf(" [context %s]", c.contextUsed)
		}
		return nil, errors.New(msg)
	}
	return nc, nil
}

// connectHint says what to do about the connection errors users meet
// most when setting up TLS and authentication.
func connectHint(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	switch {
	case errors.As(err, &unknownCA):
		return "the server's certificate is not signed by a CA this client trusts: give that CA with --tlsca"
	case errors.As(err, &badHost):
		return "the server's certificate does not name the host in the URL"
	// The TLS package does not export the alert a server sends, only its
	// text; with TLS 1.3 the refusal may also come as the server closing
	// right after the handshake, which nats.go reports in its own words.
	case strings.Contains(err.Error(), "tls: certificate required"), strings.Contains(err.Error(), "tls: bad certificate"):
		return "the server wants a client certificate it trusts: give --tlscert and --tlskey"
	case strings.Contains(err.Error(), "closed by remote after TLS handshake"):
		return "the server may want a client certificate it trusts: give --tlscert and --tlskey"
	case errors.Is(err, nats.ErrSecureConnWanted):
		return "the client asked for TLS but the server does not offer it"
	case errors.Is(err, nats.ErrAuthorization):
		return "the server refused the credentials; see --user, --token, --creds, --nkey"
	case errors.Is(err, nats.ErrNoServers):
		return "no server accepted the connection: is one running there? The address comes from --server, NATS_URL or the context"
	}
	return ""
}

// redactURLs hides passwords and tokens in a comma-separated URL list before it is
// printed.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil && u.User != nil {
			if _, hasPassword := u.User.Password(); hasPassword {
				p = u.Redacted()
			} else {
				// A lone user part may be a token (nats://TOKEN@host).
				u.User = url.User("xxxxx")
				p = u.String()
			}
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// jetStream opens the JetStream API on nc in the domain or under the API
// prefix the settings name, if any.
func (c *connFlags) jetStream(nc *nats.Conn, opts ...jetstream.JetStreamOpt) (jetstream.JetStream, error) {
	switch {
	case c.settings.jsDomain != "":
		return jetstream.NewWithDomain(nc, c.settings.jsDomain, opts...)
	case c.settings.jsAPIPrefix != "":
		return jetstream.NewWithAPIPrefix(nc, c.settings.jsAPIPrefix, opts...)
	}
	return jetstream.New(nc, opts...)
}

// connErr explains an operation that failed because the connection is
// closed, with the reason the server or the client library recorded
// ("connection closed" alone says nothing).
func connErr(nc *nats.Conn, err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) {
		if last := nc.LastError(); last != nil && !errors.Is(last, nats.ErrConnectionClosed) {
			return fmt.Errorf("connection closed: %w", last)
		}
	}
	return err
}
