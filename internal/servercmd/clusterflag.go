package servercmd

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// clusterURL is --cluster (and --cluster_listen), nats-server's way to
// turn clustering on from the command line: nats://[user:pass@]host:port
// sets the route listener, and the credentials, when given, what peers
// must present. Without credentials it clears those the file set, and an
// empty URL turns clustering off, as in nats-server.
type clusterURL struct{ c *Config }

func (f clusterURL) String() string { return "" }

func (f clusterURL) Set(text string) error {
	cl := &f.c.Opts.Cluster
	if text == "" {
		cl.Port = 0
		return nil
	}
	// url.Parse refuses a negative port: read -1 (any free port) apart.
	random := strings.HasSuffix(text, ":-1")
	if random {
		text = strings.TrimSuffix(text, ":-1") + ":0"
	}
	u, err := url.Parse(text)
	if err != nil {
		return err
	}
	host, p, err := net.SplitHostPort(u.Host)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("port %q out of range", p)
	}
	if random {
		port = -1
	}
	user, pass := "", ""
	if u.User != nil {
		var ok bool
		if pass, ok = u.User.Password(); !ok {
			return errors.New("expected cluster password to be set")
		}
		user = u.User.Username()
	}
	cl.Host, cl.Port, cl.Username, cl.Password = host, port, user, pass
	return nil
}
