package servercmd

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// helpFlags returns the flag names the help text lists (in its flag
// column), without dashes.
func helpFlags(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	flagCol := regexp.MustCompile(`(?:^|[ ,])--?([A-Za-z_]+)`)
	for _, line := range strings.Split(Usage(), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if !strings.HasPrefix(trimmed, "-") || len(line)-len(trimmed) > 8 {
			continue
		}
		col := line
		if len(col) > usageColumn {
			col = col[:usageColumn]
		}
		for _, m := range flagCol.FindAllStringSubmatch(col, -1) {
			out[m[1]] = true
		}
	}
	return out
}

// parsedFlags returns every flag name the parser defines.
func parsedFlags() map[string]bool {
	var refused string
	var dt bool
	out := map[string]bool{}
	newFlagSet(&Config{}, &refused, &dt).VisitAll(func(f *flag.Flag) { out[f.Name] = true })
	return out
}

// TestHelpMatchesParser: every flag the parser takes is in the help text,
// and every flag the help text shows is parsed.
func TestHelpMatchesParser(t *testing.T) {
	help, parsed := helpFlags(t), parsedFlags()
	if len(parsed) < 50 {
		t.Fatalf("only %d flags parsed", len(parsed))
	}
	for name := range parsed {
		if !help[name] {
			t.Errorf("flag %q is parsed but not in the help text", name)
		}
	}
	for name := range help {
		if !parsed[name] {
			t.Errorf("flag %q is in the help text but not parsed", name)
		}
	}
}

// natsServerFlags are every flag nats-server 2.11 and 2.15 define: each is
// implemented or refused by name, never "not defined".
var natsServerFlags = []string{"h", "help", "port", "p", "n", "name", "server_name", "addr", "a", "net",
	"client_advertise", "D", "debug", "V", "VV", "trace", "DV", "DVV", "T", "logtime", "logtime_utc", "user",
	"pass", "auth", "m", "http_port", "ms", "https_port", "c", "config", "t", "sl", "signal", "P", "pid",
	"ports_file_dir", "l", "log", "s", "syslog", "r", "remote_syslog", "version", "v", "profile", "routes",
	"cluster", "cluster_listen", "cluster_advertise", "no_advertise", "connect_retries", "cluster_name",
	"help_tls", "tls", "tlsverify", "tlscert", "tlskey", "tlscacert", "max_traced_msg_len", "js", "jetstream",
	"sd", "store_dir", "log_size_limit"}

func TestEveryNatsServerFlagIsKnown(t *testing.T) {
	parsed := parsedFlags()
	for _, name := range natsServerFlags {
		if !parsed[name] {
			t.Errorf("nats-server flag %q is not defined", name)
		}
	}
}

// TestDocsListEveryFlag: docs/operations.md names every flag the server
// implements, so the documentation cannot fall behind the help text.
func TestDocsListEveryFlag(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flagTable {
		if f.refused != "" {
			continue
		}
		for _, name := range f.names {
			sp := "`" + flagSpelling(name)
			if !strings.Contains(string(doc), sp+"`") && !strings.Contains(string(doc), sp+" ") {
				t.Errorf("docs/operations.md does not mention %s", flagSpelling(name))
			}
		}
	}
}

func TestUsageLayout(t *testing.T) {
	for _, line := range strings.Split(Usage(), "\n") {
		if len(line) > usageWidth {
			t.Errorf("line longer than %d: %q", usageWidth, line)
		}
	}
	for _, want := range []string{
		"    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)\n",
		"    -js, --jetstream                 Enable JetStream\n",
		"    -sd, --store_dir <dir>           Store directory",
		"        --user <user>                User required for connections\n",
		"\nCluster Options:\n        --routes <rurl-1, rurl-2>    Routes to solicit and connect\n",
		"        --cluster, --cluster_listen <cluster-url>\n                                     Listen for routes at this URL;",
		"        --connect_retries <number>   For implicit routes, number of connect retries (default: 0)\n\nLimits",
	} {
		if !strings.Contains(Usage(), want) {
			t.Errorf("help text lacks %q", want)
		}
	}
	_, refused, _ := strings.Cut(Usage(), secRefused)
	for _, f := range []string{"--routes", "--cluster", "--no_advertise", "--connect_retries"} {
		if strings.Contains(refused, f) {
			t.Errorf("%s is still listed as refused", f)
		}
	}
	if strings.Contains(Usage(), "JetStream flags are recognised and refused") {
		t.Error("help text still says JetStream flags are refused")
	}
}

func TestTLSHelp(t *testing.T) {
	h := TLSHelp()
	for _, want := range []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "X25519", "CurveP256"} {
		if !strings.Contains(h, want) {
			t.Errorf("--help_tls lacks %s", want)
		}
	}
}
