package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Where the connection settings come from, highest first, as with the
// nats CLI: command-line flags, then NATS_* environment variables, then
// the context (--context, NATS_CONTEXT, or the selected one), then the
// defaults. Two groups are taken whole from the highest source that has
// any of them, so a flag never mixes with a context's leftovers: the
// credentials (user, password, token, creds, nkey, jwt, seed) and the
// client certificate (cert and key). Every other field is taken one by
// one. Nothing here does I/O.

// connLayer is one source of settings; "" means "not given here".
type connLayer struct {
	url                   string
	user, password        string
	token                 string
	creds, nkey           string
	jwt, seed             string
	cert, key, ca         string
	tlsFirst              bool
	inboxPrefix           string
	jsDomain, jsAPIPrefix string
}

func (l connLayer) hasAuth() bool {
	return l.user != "" || l.password != "" || l.token != "" || l.creds != "" ||
		l.nkey != "" || l.jwt != "" || l.seed != ""
}

func (l connLayer) hasClientCert() bool { return l.cert != "" || l.key != "" }

// mergeLayers combines layers given lowest priority first.
func mergeLayers(layers ...connLayer) connLayer {
	var m connLayer
	over := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	for _, l := range layers {
		over(&m.url, l.url)
		over(&m.ca, l.ca)
		over(&m.inboxPrefix, l.inboxPrefix)
		over(&m.jsDomain, l.jsDomain)
		over(&m.jsAPIPrefix, l.jsAPIPrefix)
		m.tlsFirst = m.tlsFirst || l.tlsFirst
		if l.hasAuth() {
			m.user, m.password, m.token = l.user, l.password, l.token
			m.creds, m.nkey, m.jwt, m.seed = l.creds, l.nkey, l.jwt, l.seed
		}
		if l.hasClientCert() {
			m.cert, m.key = l.cert, l.key
		}
	}
	return m
}

// finish applies the nats CLI's reading of a user without a password (a
// token) and checks that the merged settings make sense together.
func (l connLayer) finish() (connLayer, error) {
	var kinds []string
	for _, k := range []struct{ v, name string }{
		{l.user + l.password, "user"}, {l.token, "token"}, {l.creds, "creds"}, {l.nkey, "nkey"}, {l.jwt + l.seed, "jwt"},
	} {
		if k.v != "" {
			kinds = append(kinds, k.name)
		}
	}
	switch {
	case len(kinds) > 1:
		return l, fmt.Errorf("more than one way to authenticate (%s): choose one", strings.Join(kinds, ", "))
	case l.password != "" && l.user == "":
		return l, errors.New("a password needs a user (--user)")
	case l.seed != "" && l.jwt == "":
		return l, errors.New("a seed (--seed) signs for a JWT: give --jwt too")
	case l.cert != "" && l.key == "":
		return l, errors.New("a client certificate (--tlscert) needs its private key (--tlskey)")
	case l.key != "" && l.cert == "":
		return l, errors.New("a private key (--tlskey) needs its certificate (--tlscert)")
	case l.jsDomain != "" && l.jsAPIPrefix != "":
		return l, errors.New("give a JetStream domain or an API prefix, not both")
	}
	if l.user != "" && l.password == "" {
		l.token, l.user = l.user, ""
	}
	if l.url == "" {
		l.url = defaultURL
	}
	return l, nil
}

// envLayer reads the nats CLI's environment variables.
func envLayer(getenv func(string) string) (connLayer, error) {
	if p := getenv("NATS_SOCKS_PROXY"); p != "" {
		return connLayer{}, errors.New("NATS_SOCKS_PROXY is set, but starling cannot connect through a SOCKS proxy; unset it to connect directly")
	}
	return connLayer{
		url:      getenv("NATS_URL"),
		user:     getenv("NATS_USER"),
		password: getenv("NATS_PASSWORD"),
		token:    getenv("NATS_TOKEN"),
		creds:    getenv("NATS_CREDS"),
		nkey:     getenv("NATS_NKEY"),
		jwt:      getenv("NATS_JWT"),
		seed:     getenv("NATS_SEED"),
		cert:     getenv("NATS_CERT"),
		key:      getenv("NATS_KEY"),
		ca:       getenv("NATS_CA"),
	}, nil
}

// envTimeout is NATS_TIMEOUT, 0 when unset.
func envTimeout(getenv func(string) string) (time.Duration, error) {
	v := getenv("NATS_TIMEOUT")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("NATS_TIMEOUT=%q is not a positive duration such as 5s", v)
	}
	return d, nil
}

// contextLayer turns a context into settings, refusing the fields that
// would change how the nats CLI connects but that starling cannot honour.
// The description, color scheme and event prefix do not affect a
// connection and are not used.
func contextLayer(name string, c *natsContext) (connLayer, error) {
	switch {
	case c.SocksProxy != "":
		return connLayer{}, fmt.Errorf("context %s connects through the SOCKS proxy %s, which starling cannot do", name, c.SocksProxy)
	case c.NSCLookup != "":
		return connLayer{}, fmt.Errorf("context %s takes its credentials from nsc (\"nsc\" field), which starling does not run; export them to a creds file", name)
	case c.WinCertStoreType != "":
		return connLayer{}, fmt.Errorf("context %s uses the Windows certificate store, which starling cannot read", name)
	}
	return connLayer{
		url: c.URL, user: c.User, password: c.Password, token: c.Token,
		creds: c.Creds, nkey: c.NKey, jwt: c.UserJWT, seed: c.UserSeed,
		cert: c.Cert, key: c.Key, ca: c.CA, tlsFirst: c.TLSFirst,
		inboxPrefix: c.InboxPrefix, jsDomain: c.JSDomain, jsAPIPrefix: c.JSAPIPrefix,
	}, nil
}

// contextChoice says which context applies: --context, else NATS_CONTEXT,
// else the selected one; none with --no-context. fromFlag tells an
// explicit choice (which must exist) from the selection.
func contextChoice(flagName string, noContext bool, getenv func(string) string, selected func() string) (name, source string) {
	switch {
	case noContext:
		return "", ""
	case flagName != "":
		return flagName, "--context"
	case getenv("NATS_CONTEXT") != "":
		return getenv("NATS_CONTEXT"), "NATS_CONTEXT"
	}
	if s := selected(); s != "" {
		return s, "selected"
	}
	return "", ""
}
