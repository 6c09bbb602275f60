package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Contexts are named sets of connection settings stored exactly where and
// how the nats CLI stores them, so both tools share them:
//
//	$XDG_CONFIG_HOME/nats/context/<name>.json  (default ~/.config/nats)
//	$XDG_CONFIG_HOME/nats/context.txt           the selected context's name
//	$XDG_CONFIG_HOME/nats/previous-context.txt  the one selected before
//
// The JSON field names are the nats CLI's; fields starling does not know
// are kept as they are when it rewrites a file.

// natsContext is one context file. Field order is the nats CLI's, so a
// context starling writes reads the same in a diff.
type natsContext struct {
	Description         string   `json:"description"`
	URL                 string   `json:"url"`
	SocksProxy          string   `json:"socks_proxy"`
	Token               string   `json:"token"`
	User                string   `json:"user"`
	Password            string   `json:"password"`
	Creds               string   `json:"creds"`
	NKey                string   `json:"nkey"`
	Cert                string   `json:"cert"`
	Key                 string   `json:"key"`
	CA                  string   `json:"ca"`
	NSCLookup           string   `json:"nsc"`
	JSDomain            string   `json:"jetstream_domain"`
	JSAPIPrefix         string   `json:"jetstream_api_prefix"`
	JSEventPrefix       string   `json:"jetstream_event_prefix"`
	InboxPrefix         string   `json:"inbox_prefix"`
	UserJWT             string   `json:"user_jwt"`
	UserSeed            string   `json:"user_seed"`
	ColorScheme         string   `json:"color_scheme"`
	TLSFirst            bool     `json:"tls_first"`
	WinCertStoreType    string   `json:"windows_cert_store"`
	WinCertStoreMatchBy string   `json:"windows_cert_match_by"`
	WinCertStoreMatch   string   `json:"windows_cert_match"`
	WinCertStoreCaMatch []string `json:"windows_ca_certs_match"`

	// extra holds fields this version does not know, written back as read.
	extra map[string]json.RawMessage
}

// knownContextKeys are the JSON names of natsContext's fields, plus
// "name", which the nats CLI may write and which the file name overrides.
var knownContextKeys = func() map[string]bool {
	keys := map[string]bool{"name": true}
	var probe map[string]json.RawMessage
	b, err := json.Marshal(natsContext{})
	if err == nil && json.Unmarshal(b, &probe) == nil {
		for k := range probe {
			keys[k] = true
		}
	}
	return keys
}()

// parseContext reads a context file's bytes.
func parseContext(data []byte) (*natsContext, error) {
	c := &natsContext{}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	for k, v := range all {
		if !knownContextKeys[k] {
			if c.extra == nil {
				c.extra = map[string]json.RawMessage{}
			}
			c.extra[k] = v
		}
	}
	return c, nil
}

// marshal renders the file: the known fields in order, then any unknown
// ones sorted by name, indented as the nats CLI indents.
func (c *natsContext) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil || len(c.extra) == 0 {
		return b, err
	}
	var out bytes.Buffer
	out.Write(bytes.TrimSuffix(b, []byte("\n}")))
	for _, k := range slices.Sorted(maps.Keys(c.extra)) {
		key, _ := json.Marshal(k) // a string always marshals
		var v bytes.Buffer
		if err := json.Indent(&v, c.extra[k], "  ", "  "); err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		fmt.Fprintf(&out, ",\n  %s: %s", key, v.Bytes())
	}
	out.WriteString("\n}")
	return out.Bytes(), nil
}

// validContextName refuses names that are not a plain file name.
func validContextName(name string) error {
	switch {
	case name == "":
		return errors.New("context name is empty")
	case strings.Contains(name, ".."):
		return fmt.Errorf("context name %q must not contain \"..\"", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("context name %q must not contain / or \\", name)
	}
	return nil
}

// errNoContextDir means neither XDG_CONFIG_HOME nor HOME is known.
var errNoContextDir = errors.New("no configuration directory: set XDG_CONFIG_HOME or HOME")

// contextStore is the directory tree above. An empty root (no
// configuration directory) holds no contexts and refuses writes.
type contextStore struct{ root string }

// newContextStore finds the directory the nats CLI uses.
func newContextStore(getenv func(string) string) contextStore {
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		return contextStore{root: filepath.Join(x, "nats")}
	}
	if h := getenv("HOME"); h != "" {
		return contextStore{root: filepath.Join(h, ".config", "nats")}
	}
	return contextStore{}
}

func (s contextStore) dir() string             { return filepath.Join(s.root, "context") }
func (s contextStore) path(name string) string { return filepath.Join(s.dir(), name+".json") }
func (s contextStore) selectedFile() string    { return filepath.Join(s.root, "context.txt") }
func (s contextStore) previousFile() string    { return filepath.Join(s.root, "previous-context.txt") }
func (s contextStore) exists(name string) bool { _, err := os.Stat(s.path(name)); return err == nil }

func (s contextStore) needRoot() error {
	if s.root == "" {
		return errNoContextDir
	}
	return nil
}

// errContextNotFound is returned by load for a name with no file.
var errContextNotFound = errors.New("context not found")

// load reads the named context.
func (s contextStore) load(name string) (*natsContext, error) {
	if err := validContextName(name); err != nil {
		return nil, err
	}
	if s.root == "" {
		return nil, fmt.Errorf("%w: %s (%v)", errContextNotFound, name, errNoContextDir)
	}
	data, err := readFileBounded(s.path(name), maxCredFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no file %s", errContextNotFound, name, s.path(name))
	}
	if err != nil {
		return nil, fmt.Errorf("context %s: %w", name, err)
	}
	c, err := parseContext(data)
	if err != nil {
		return nil, fmt.Errorf("context %s: %s is not valid JSON: %w", name, s.path(name), err)
	}
	return c, nil
}

// loadFile reads a context from a path (--context ./dev.json).
func loadContextFile(path string) (*natsContext, error) {
	data, err := readFileBounded(path, maxCredFile)
	if err != nil {
		return nil, fmt.Errorf("context file: %w", err)
	}
	c, err := parseContext(data)
	if err != nil {
		return nil, fmt.Errorf("context file %s is not valid JSON: %w", path, err)
	}
	return c, nil
}

// save writes the context atomically, readable by its owner only: it may
// hold passwords and tokens.
func (s contextStore) save(name string, c *natsContext) error {
	if err := validContextName(name); err != nil {
		return err
	}
	if err := s.needRoot(); err != nil {
		return err
	}
	data, err := c.marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir(), 0o700); err != nil {
		return err
	}
	return writeSmallFile(s.path(name), data)
}

// list returns the stored context names, sorted. Like the nats CLI it
// skips empty files and names it could not load.
func (s contextStore) list() ([]string, error) {
	if s.root == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(s.dir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || ent.IsDir() || validContextName(name) != nil {
			continue
		}
		if info, err := ent.Info(); err != nil || info.Size() == 0 {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// selected is the selected context's name, "" when none.
func (s contextStore) selected() string {
	if s.root == "" {
		return ""
	}
	b, err := readFileBounded(s.selectedFile(), 4096)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// previous is the context selected before the current one, "" when none.
func (s contextStore) previous() string {
	if s.root == "" {
		return ""
	}
	b, err := readFileBounded(s.previousFile(), 4096)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// setSelected selects name ("" clears the selection), remembering the
// one it replaces as the nats CLI does.
func (s contextStore) setSelected(name string) error {
	if err := s.needRoot(); err != nil {
		return err
	}
	if err := os.MkdirAll(s.root, 0o700); err != nil {
		return err
	}
	if prev := s.selected(); prev != "" {
		if err := writeSmallFile(s.previousFile(), []byte(prev)); err != nil {
			return err
		}
	}
	if name == "" {
		if err := os.Remove(s.selectedFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeSmallFile(s.selectedFile(), []byte(name))
}

// remove deletes the named context's file.
func (s contextStore) remove(name string) error {
	if err := validContextName(name); err != nil {
		return err
	}
	if err := s.needRoot(); err != nil {
		return err
	}
	err := os.Remove(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s", errContextNotFound, name)
	}
	return err
}

// readFileBounded reads a whole small file, refusing one above limit.
func readFileBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read only
	b, err := readBounded(f, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// writeSmallFile replaces path with data through a synced temporary file,
// mode 0600, so a reader never sees half a file.
func writeSmallFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already failing: report the first error
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}
