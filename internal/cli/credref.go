package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Credential references, as the nats CLI's contexts write them. A
// credentials file or NKey seed may be a path (bare or file://), an
// environment variable (env://NAME) or inline data (data:;base64,...);
// a password, token, JWT or seed is its literal value unless it uses one
// of those schemes. The nats CLI also resolves op:// (1Password) and
// nsc:// (the nsc tool) by running other programs; starling refuses them
// with a clear error rather than guessing.

// maxCredFile bounds a credentials, seed or certificate file read into
// memory: real ones are a few KiB.
const maxCredFile = 1 << 20

// refScheme is the URI scheme of ref, "" for a plain value or path.
// Single-letter schemes are not schemes (C:\path on Windows).
func refScheme(ref string) string {
	u, err := url.Parse(ref)
	if err != nil || len(u.Scheme) < 2 {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

// refResolver reads references with the process's environment and home
// directory, both injected so tests need neither.
type refResolver struct {
	getenv func(string) string
	home   string // for ~ in paths; "" leaves ~ alone
}

// expandPath applies ~ and $VAR expansion, as the nats CLI does for the
// file fields of a context.
func (r refResolver) expandPath(p string) string {
	p = os.Expand(p, r.getenv)
	if r.home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		p = filepath.Join(r.home, p[1:])
	}
	return p
}

// filePath is the path a bare or file:// reference names.
func (r refResolver) filePath(ref string) string {
	if len(ref) >= 7 && strings.EqualFold(ref[:7], "file://") {
		ref = ref[7:]
	}
	return r.expandPath(ref)
}

// errUnsupportedScheme explains a scheme that needs another program.
func errUnsupportedScheme(what, ref string) error {
	s := refScheme(ref)
	switch s {
	case "op":
		return fmt.Errorf("%s: op:// references need the 1Password CLI, which starling does not run; use a file path, env:// or data:", what)
	case "nsc":
		return fmt.Errorf("%s: nsc:// references need the nsc tool, which starling does not run; export the credentials to a file with nsc and give its path", what)
	}
	return fmt.Errorf("%s: unsupported reference scheme %q (use a file path, file://, env:// or data:)", what, s)
}

// readRef returns the bytes a file-like reference names (credentials,
// NKey seed): a path unless it has the env or data scheme.
func (r refResolver) readRef(what, ref string) ([]byte, error) {
	switch refScheme(ref) {
	case "", "file":
		p := r.filePath(ref)
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		defer f.Close() // read only
		b, err := readBounded(f, maxCredFile)
		if err != nil {
			return nil, fmt.Errorf("%s: read %s: %w", what, p, err)
		}
		return b, nil
	case "env", "data":
		return r.inline(what, ref)
	}
	return nil, errUnsupportedScheme(what, ref)
}

// literal resolves a value that is itself the secret (password, token,
// JWT, seed): env:// and data: are read, file:// reads the file, anything
// else, including a plain string with a colon in it, is the value.
func (r refResolver) literal(what, ref string) (string, error) {
	var b []byte
	var err error
	switch refScheme(ref) {
	case "env", "data":
		b, err = r.inline(what, ref)
	case "file":
		b, err = r.readRef(what, ref)
	case "op", "nsc":
		return "", errUnsupportedScheme(what, ref)
	default:
		return ref, nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// inline decodes env://NAME and data:[;params];base64,PAYLOAD.
func (r refResolver) inline(what, ref string) ([]byte, error) {
	if refScheme(ref) == "env" {
		name := ref[len("env://"):]
		if !strings.HasPrefix(strings.ToLower(ref), "env://") || name == "" {
			return nil, fmt.Errorf("%s: %q: want env://VARIABLE", what, ref)
		}
		v := r.getenv(name)
		if v == "" {
			return nil, fmt.Errorf("%s: environment variable %s is not set or empty", what, name)
		}
		return []byte(v), nil
	}
	header, payload, ok := strings.Cut(ref[len("data:"):], ",")
	if !ok {
		return nil, fmt.Errorf("%s: data: reference has no ',' before its payload", what)
	}
	base64Coded := false
	for p := range strings.SplitSeq(header, ";") {
		base64Coded = base64Coded || strings.TrimSpace(p) == "base64"
	}
	if !base64Coded {
		return nil, fmt.Errorf("%s: data: reference must be base64 (data:;base64,...)", what)
	}
	if len(payload) > 2*maxCredFile {
		return nil, fmt.Errorf("%s: data: reference longer than %d bytes", what, 2*maxCredFile)
	}
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: data: reference: %w", what, err)
	}
	return b, nil
}

// fileStatus is how `context show` reports a file reference: OK when a
// plain file is readable, otherwise what is wrong, or where it comes from
// for the inline schemes.
func (r refResolver) fileStatus(ref string) string {
	switch refScheme(ref) {
	case "", "file":
		p := r.filePath(ref)
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return "missing"
		case err != nil:
			return "unreadable"
		case st.IsDir():
			return "a directory"
		}
		return "OK"
	case "env":
		return "from the environment"
	case "data":
		return "embedded"
	}
	return "unsupported by starling"
}
