package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// flagSet wraps the standard library's flag.FlagSet with what nats CLI users
// expect: a long and a short name for one flag (-s/--server), flags placed
// before, between or after the positional arguments, and a usage text that
// lists each flag once. The standard package does the value parsing and
// error messages; this type only decides which arguments are flags.
type flagSet struct {
	cmd   string // subcommand name, for messages
	args  string // positional synopsis, e.g. "<subject> [body]"
	about string // one-line description
	fs    *flag.FlagSet
	specs []flagSpec
	// section names the usage block the flags registered next go in;
	// "" is the command's own block, listed first.
	section string
}

type flagSpec struct {
	long, short, arg, help string
	def                    string // shown in usage when not empty
	section                string
	aliases                []string // other long names, not listed in usage
}

func newFlagSet(cmd, args, about string) *flagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	// We print our own one-line errors and usage text.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{cmd: cmd, args: args, about: about, fs: fs}
}

// value registers v under long and, when not empty, short.
func (f *flagSet) value(v flag.Value, long, short, arg, def, help string) {
	f.fs.Var(v, long, help)
	if short != "" {
		f.fs.Var(v, short, help)
	}
	f.specs = append(f.specs, flagSpec{long: long, short: short, arg: arg, help: help, def: def, section: f.section})
}

// alias makes name another spelling of the registered flag long, for a
// name the nats CLI uses; usage lists only long.
func (f *flagSet) alias(name, long string) {
	fl := f.fs.Lookup(long)
	if fl == nil {
		panic("alias of unknown flag " + long) // a programming error, caught by any test
	}
	f.fs.Var(fl.Value, name, fl.Usage)
	for i := range f.specs {
		if f.specs[i].long == long {
			f.specs[i].aliases = append(f.specs[i].aliases, name)
		}
	}
}

func (f *flagSet) stringVar(p *string, long, short, arg, def, help string) {
	*p = def
	f.value((*stringValue)(p), long, short, arg, def, help)
}

func (f *flagSet) intVar(p *int, long, short string, def int, help string) {
	*p = def
	shown := "" // a zero default means "not given"; the help says what that does
	if def != 0 {
		shown = fmt.Sprint(def)
	}
	f.value((*intValue)(p), long, short, "N", shown, help)
}

func (f *flagSet) boolVar(p *bool, long, short, help string) {
	f.value((*boolValue)(p), long, short, "", "", help)
}

func (f *flagSet) durationVar(p *time.Duration, long, short string, def time.Duration, help string) {
	*p = def
	shown := ""
	if def != 0 {
		shown = def.String()
	}
	f.value((*durationValue)(p), long, short, "DURATION", shown, help)
}

// isSet reports whether the user gave the flag (under either name).
func (f *flagSet) isSet(long string) bool {
	names := map[string]bool{long: true}
	for _, s := range f.specs {
		if s.long == long {
			if s.short != "" {
				names[s.short] = true
			}
			for _, a := range s.aliases {
				names[a] = true
			}
		}
	}
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || names[fl.Name] })
	return set
}

// parse separates flags from positional arguments anywhere in args, parses
// the flags, and returns the positional arguments in order. "--" ends the
// flags; everything after it is positional (for a body starting with "-").
func (f *flagSet) parse(args []string) ([]string, error) {
	var flags, positional []string
	// Each iteration consumes at least one argument, so the loop is bounded
	// by len(args).
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			if f.takesValue(a) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	if err := f.fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, usageErrorf("%v", err)
	}
	return positional, nil
}

// takesValue reports whether the flag token a ("-x", "--name") consumes the
// next argument: a known, non-boolean flag written without "=value".
// Unknown flags take nothing; flag.Parse then reports them.
func (f *flagSet) takesValue(a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	fl := f.fs.Lookup(name)
	if fl == nil {
		return false
	}
	if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return false
	}
	return true
}

// usage writes the help text for the subcommand.
func (f *flagSet) usage(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", strings.TrimSpace("Usage: starling "+f.cmd+" [flags] "+f.args), f.about)
	names := make([]string, len(f.specs))
	width := 0
	for i, s := range f.specs {
		n := "    --" + s.long
		if s.short != "" {
			n = "-" + s.short + ", --" + s.long
		}
		if s.arg != "" {
			n += " " + s.arg
		}
		names[i] = n
		width = max(width, len(n))
	}
	// The command's own flags first, then each section in the order its
	// first flag was registered.
	var sections []string
	if slices.ContainsFunc(f.specs, func(s flagSpec) bool { return s.section == "" }) {
		sections = append(sections, "")
	}
	for _, s := range f.specs {
		if !slices.Contains(sections, s.section) {
			sections = append(sections, s.section)
		}
	}
	for _, sec := range sections {
		title := "Flags"
		if sec != "" {
			title = sec + " flags"
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		for i, s := range f.specs {
			if s.section != sec {
				continue
			}
			help := s.help
			if s.def != "" {
				help += fmt.Sprintf(" (default %s)", s.def)
			}
			fmt.Fprintf(&b, "  %-*s  %s\n", width, names[i], help)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// errHelp asks Run to print the usage text and succeed.
var errHelp = errors.New("help requested")

// usageError is a mistake in the command line; Run adds a pointer to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// checkArgs validates the number of positional arguments.
func (f *flagSet) checkArgs(pos []string, minN, maxN int) error {
	switch {
	case len(pos) < minN:
		return usageErrorf("missing argument: usage: starling %s [flags] %s", f.cmd, f.args)
	case len(pos) > maxN:
		return usageErrorf("unexpected argument %q: usage: starling %s [flags] %s", pos[maxN], f.cmd, f.args)
	}
	return nil
}

// Flag value types. The standard library's own are unexported, and having
// ours lets one value be registered under two names.

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return fmt.Sprint(int(*v)) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		*v = true
	case "false", "0", "no":
		*v = false
	default:
		return fmt.Errorf("%q is not true or false", s)
	}
	return nil
}
func (v *boolValue) String() string   { return fmt.Sprint(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 500ms, 5s or 1m", s)
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

// sizeValue is a byte count with optional unit (see parseSize).
type sizeValue int64

func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}
func (v *sizeValue) String() string { return fmt.Sprint(int64(*v)) }

// headerValue collects repeated -H key:value flags, checked when given.
type headerValue []string

func (v *headerValue) Set(s string) error {
	if _, _, err := splitHeader(s); err != nil {
		return err
	}
	*v = append(*v, s)
	return nil
}
func (v *headerValue) String() string { return strings.Join(*v, ", ") }

// subjectAndBody splits checked "<subject> [body]" positional arguments;
// set tells an empty body argument from none.
func subjectAndBody(pos []string) (subject, body string, set bool) {
	if len(pos) == 2 {
		return pos[0], pos[1], true
	}
	return pos[0], "", false
}
