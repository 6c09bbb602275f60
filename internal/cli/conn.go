package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// defaultURL is used when neither --server nor NATS_URL is given.
const defaultURL = "nats://127.0.0.1:4222"

// connFlags are the connection options every subcommand shares, named as
// in the nats CLI so muscle memory carries over.
type connFlags struct {
	server   string
	user     string
	password string
	token    string
	name     string
	timeout  time.Duration
}

// addConnFlags registers the shared flags; NATS_URL, when set, replaces
// the default server URL as it does for the nats CLI.
func addConnFlags(f *flagSet, c *connFlags, e *env) {
	def := defaultURL
	if u := e.getenv("NATS_URL"); u != "" {
		def = u
	}
	f.stringVar(&c.server, "server", "s", "URL", def, "NATS server URL(s), comma separated; env NATS_URL")
	f.stringVar(&c.user, "user", "", "USER", "", "username for authentication")
	f.stringVar(&c.password, "password", "", "PASSWORD", "", "password for authentication")
	f.stringVar(&c.token, "token", "", "TOKEN", "", "token for authentication")
	f.durationVar(&c.timeout, "timeout", "", 5*time.Second, "time allowed to connect, flush and wait for replies")
	f.stringVar(&c.name, "name", "", "NAME", "", "connection name shown by the server's monitoring")
}

func (c *connFlags) validate() error {
	if c.timeout <= 0 {
		return usageErrorf("--timeout must be greater than zero")
	}
	if strings.TrimSpace(c.server) == "" {
		return usageErrorf("--server must not be empty")
	}
	return nil
}

// options turns the flags into nats.go options; extra ones come last so a
// command can override a default (for example reconnection).
func (c *connFlags) options(defaultName string, extra ...nats.Option) []nats.Option {
	name := c.name
	if name == "" {
		name = defaultName
	}
	opts := []nats.Option{nats.Name(name), nats.Timeout(c.timeout)}
	if c.user != "" || c.password != "" {
		opts = append(opts, nats.UserInfo(c.user, c.password))
	}
	if c.token != "" {
		opts = append(opts, nats.Token(c.token))
	}
	return append(opts, extra...)
}

// connect dials the server; the error names the (redacted) URL so a
// mistyped address is obvious from the one-line message.
func (c *connFlags) connect(defaultName string, extra ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect(c.server, c.options(defaultName, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactURLs(c.server), err)
	}
	return nc, nil
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
