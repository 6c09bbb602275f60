package servercmd

import (
	"crypto/tls"
	"strings"

	"github.com/starling-mq/starling/internal/config"
)

// usageColumn is where descriptions start in the help text, as in
// nats-server's.
const usageColumn = 37

// Usage returns the `starling server` help text, made from flagTable.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: starling server [options]\n")
	for _, sec := range sections {
		b.WriteString("\n" + sec + ":\n")
		for _, f := range flagTable {
			if f.section == sec {
				writeFlagHelp(&b, f)
			}
		}
	}
	b.WriteString(usageNotes)
	return b.String()
}

// usageWidth is where help lines wrap.
const usageWidth = 100

// isShort reports whether name is a short flag (-p, -js, -DV), which help
// writes with one dash; long ones get two. Both spellings work.
func isShort(name string) bool { return len(name) <= 2 || name == strings.ToUpper(name) }

func flagSpelling(name string) string {
	if isShort(name) {
		return "-" + name
	}
	return "--" + name
}

func writeFlagHelp(b *strings.Builder, f flagDef) {
	names := make([]string, len(f.names))
	for i, n := range f.names {
		names[i] = flagSpelling(n)
	}
	left := "    "
	if !isShort(f.names[0]) {
		left += "    " // no short form: long names line up
	}
	left += strings.Join(names, ", ")
	if f.arg != "" {
		left += " " + f.arg
	}
	desc := f.usage
	if f.def != "" {
		desc += " (default: " + f.def + ")"
	}
	indent := strings.Repeat(" ", usageColumn)
	if len(left) >= usageColumn-1 {
		b.WriteString(left + "\n" + indent)
	} else {
		b.WriteString(left + strings.Repeat(" ", usageColumn-len(left)))
	}
	// Wrap the description at usageWidth, continuing under itself.
	col := usageColumn
	for i, word := range strings.Fields(desc) {
		if i > 0 && col+1+len(word) > usageWidth {
			b.WriteString("\n" + indent)
			col = usageColumn
		} else if i > 0 {
			b.WriteString(" ")
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	b.WriteString("\n")
}

// usageNotes ends the help text.
const usageNotes = `
Flags override the configuration file; users and permissions are set in the
file. Every nats-server flag and configuration key is either implemented or
refused with an error naming the feature, never ignored.

Signals: INT and TERM stop (TERM waits during lame duck), HUP reloads the
configuration, USR1 reopens the log file, USR2 enters lame-duck mode.
Signals that arrive while the server starts are handled once it runs.
`

// TLSHelp lists what a tls block's cipher_suites and curve_preferences
// accept (--help_tls).
func TLSHelp() string {
	var b strings.Builder
	b.WriteString("TLS cipher suites (cipher_suites):\n")
	for _, cs := range tls.CipherSuites() {
		b.WriteString("    " + cs.Name + "\n")
	}
	b.WriteString("\nInsecure cipher suites (also need allow_insecure_cipher_suites: true):\n")
	for _, cs := range tls.InsecureCipherSuites() {
		b.WriteString("    " + cs.Name + "\n")
	}
	b.WriteString("\nCurves (curve_preferences):\n")
	for _, name := range config.CurveNames() {
		b.WriteString("    " + name + "\n")
	}
	return b.String()
}
