package cli

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// natsCLIEmptyContext is what `nats context add x` (natscli v0.5.0) writes
// with no settings: starling must write the same bytes.
const natsCLIEmptyContext = `{
  "description": "",
  "url": "",
  "socks_proxy": "",
  "token": "",
  "user": "",
  "password": "",
  "creds": "",
  "nkey": "",
  "cert": "",
  "key": "",
  "ca": "",
  "nsc": "",
  "jetstream_domain": "",
  "jetstream_api_prefix": "",
  "jetstream_event_prefix": "",
  "inbox_prefix": "",
  "user_jwt": "",
  "user_seed": "",
  "color_scheme": "",
  "tls_first": false,
  "windows_cert_store": "",
  "windows_cert_match_by": "",
  "windows_cert_match": "",
  "windows_ca_certs_match": null
}`

func TestContextFileFormat(t *testing.T) {
	b, err := (&natsContext{}).marshal()
	if err != nil || string(b) != natsCLIEmptyContext {
		t.Fatalf("empty context:\n%s\n%v", b, err)
	}
	// Fields a later nats CLI adds survive a rewrite by starling, after the
	// known ones; "name" is dropped as the nats CLI drops it.
	in := strings.Replace(natsCLIEmptyContext, `"url": ""`, `"url": "nats://h:1", "name": "x", "zeta": {"a": [1, 2]}, "alpha": true`, 1)
	c, err := parseContext([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "nats://h:1" || len(c.extra) != 2 {
		t.Fatalf("parsed %+v", c)
	}
	out, err := c.marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(natsCLIEmptyContext, `"url": ""`, `"url": "nats://h:1"`, 1)
	want = strings.TrimSuffix(want, "\n}") + ",\n  \"alpha\": true,\n  \"zeta\": {\n    \"a\": [\n      1,\n      2\n    ]\n  }\n}"
	if string(out) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", out, want)
	}
	if _, err := parseContext([]byte("{not json")); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestContextStore(t *testing.T) {
	root := t.TempDir()
	s := newContextStore(func(k string) string { return map[string]string{"XDG_CONFIG_HOME": root}[k] })
	if s.root != filepath.Join(root, "nats") {
		t.Fatalf("root %q", s.root)
	}
	if names, err := s.list(); err != nil || len(names) != 0 || s.selected() != "" {
		t.Fatalf("fresh store: %v %v %q", names, err, s.selected())
	}
	if _, err := s.load("dev"); !errors.Is(err, errContextNotFound) {
		t.Fatalf("load missing: %v", err)
	}
	for _, n := range []string{"prod", "dev"} {
		if err := s.save(n, &natsContext{URL: "nats://" + n + ":4222"}); err != nil {
			t.Fatal(err)
		}
	}
	// Stray files are not contexts.
	if err := os.WriteFile(filepath.Join(s.dir(), "empty.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir(), "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if names, err := s.list(); err != nil || !slices.Equal(names, []string{"dev", "prod"}) {
		t.Fatalf("list = %v, %v", names, err)
	}
	st, err := os.Stat(s.path("dev"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("context file mode %v, %v", st.Mode(), err)
	}
	if c, err := s.load("dev"); err != nil || c.URL != "nats://dev:4222" {
		t.Errorf("load = %+v, %v", c, err)
	}
	if err := s.setSelected("dev"); err != nil {
		t.Fatal(err)
	}
	if err := s.setSelected("prod"); err != nil {
		t.Fatal(err)
	}
	if s.selected() != "prod" || s.previous() != "dev" {
		t.Errorf("selected %q previous %q", s.selected(), s.previous())
	}
	if err := s.remove("dev"); err != nil || s.exists("dev") {
		t.Errorf("remove: %v", err)
	}
	if err := s.remove("dev"); !errors.Is(err, errContextNotFound) {
		t.Errorf("second remove: %v", err)
	}
	if err := s.setSelected(""); err != nil || s.selected() != "" {
		t.Errorf("unselect: %v %q", err, s.selected())
	}
	// No configuration directory: nothing to list, nothing saved.
	none := newContextStore(func(string) string { return "" })
	if names, _ := none.list(); len(names) != 0 || none.save("x", &natsContext{}) == nil {
		t.Error("store without a root")
	}
	if h := newContextStore(func(k string) string { return map[string]string{"HOME": "/home/u"}[k] }); h.root != "/home/u/.config/nats" {
		t.Errorf("HOME root %q", h.root)
	}
}

func TestValidContextName(t *testing.T) {
	for name, ok := range map[string]bool{"dev": true, "my.ctx": true, "a b": true, "": false, "../x": false, "a/b": false, `a\b`: false, "a..b": false} {
		if err := validContextName(name); (err == nil) != ok {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestRefResolver(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SECRET": "from-env", "DIR": dir}
	r := refResolver{getenv: func(k string) string { return vars[k] }, home: dir}
	data := "data:;base64," + base64.StdEncoding.EncodeToString([]byte("from-data"))
	literals := []struct{ ref, want, err string }{
		{"plain", "plain", ""},
		{"pass:with:colons", "pass:with:colons", ""},
		{"env://SECRET", "from-env", ""},
		{"env://UNSET", "", "not set"},
		{data, "from-data", ""},
		{"data:text/plain,raw", "", "must be base64"},
		{"file://" + file, "from-file", ""},
		{"op://vault/item/field", "", "1Password"},
		{"nsc://o/a/u", "", "nsc tool"},
	}
	for _, tc := range literals {
		got, err := r.literal("token", tc.ref)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("literal(%q) = %q, %v; want %q, %q", tc.ref, got, err, tc.want, tc.err)
		}
	}
	files := []struct{ ref, want, err string }{
		{file, "from-file\n", ""},
		{"$DIR/secret.txt", "from-file\n", ""},
		{"~/secret.txt", "from-file\n", ""},
		{"file://~/secret.txt", "from-file\n", ""},
		{"env://SECRET", "from-env", ""},
		{data, "from-data", ""},
		{filepath.Join(dir, "missing"), "", "no such file"},
		{"op://v/i/f", "", "1Password"},
		{"s3://bucket/key", "", "unsupported reference scheme"},
	}
	for _, tc := range files {
		got, err := r.readRef("creds", tc.ref)
		if string(got) != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("readRef(%q) = %q, %v; want %q, %q", tc.ref, got, err, tc.want, tc.err)
		}
	}
	for ref, want := range map[string]string{file: "OK", dir: "a directory", filepath.Join(dir, "nope"): "missing", "env://X": "from the environment", data: "embedded", "op://x": "unsupported by starling"} {
		if got := r.fileStatus(ref); got != want {
			t.Errorf("fileStatus(%q) = %q, want %q", ref, got, want)
		}
	}
}
