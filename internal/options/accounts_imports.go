package options

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/starling-mq/starling/internal/subject"
)

// The errors nats-server gives when it adds exports and imports; the
// texts are its own.
var (
	errInvalidSubject       = errors.New("invalid subject")
	errStreamImportAuth     = errors.New("stream import not authorized")
	errServiceImportAuth    = errors.New("service import not authorized")
	errStreamImportPrefix   = errors.New("stream import prefix can not contain wildcard tokens")
	errStreamImportDup      = errors.New("stream import already exists")
	errImportFormsCycle     = errors.New("import forms a cycle")
	errPrefixAndTo          = errors.New("Stream import can not have a 'prefix' and a 'to' property")
	errResponseOnStream     = errors.New("Detected response directive on non-service")
	errAllowTraceOnStream   = errors.New("Detected allow_trace directive on non-service")
	errAllowTraceOnService  = errors.New("Detected allow_trace directive on a non-stream")
	errImportNeedsAccSubj   = errors.New("Expect an account name and a subject")
	errShareOnStream        = errors.New("share applies to service imports only")
	errPrefixOnService      = errors.New("prefix applies to stream imports only")
	errExportNeedsOneKind   = errors.New("an export is a stream or a service")
	errImportNeedsOneSource = errors.New("an import is a stream or a service")
)

// exportAuth is who may import one exported subject.
type exportAuth struct {
	restricted bool            // an accounts list was given
	approved   map[string]bool // the accounts it names
}

func (e *exportAuth) allows(account string) bool {
	return !e.restricted || e.approved[account]
}

// graph is the accounts' exports and the imports added so far, which is
// what nats-server's authorization and cycle checks look at.
type graph struct {
	accounts map[string]*accountGraph
}

type accountGraph struct {
	name           string
	streamExports  map[string]*exportAuth
	serviceExports map[string]*exportAuth
	streamImports  []importEdge
	serviceImports []importEdge
}

// importEdge is an import added: from account to, what nats-server calls
// from and to (for a stream the exported subject and the local one, for a
// service the local subject and the exported one).
type importEdge struct {
	account  string
	from, to string
}

// validateExportsImports checks every export, then every stream import and
// every service import, in that order, as nats-server adds them.
func validateExportsImports(accounts []AccountOptions, byName map[string]*AccountOptions) []error {
	g := &graph{accounts: make(map[string]*accountGraph, len(byName))}
	for name := range byName {
		g.accounts[name] = &accountGraph{name: name,
			streamExports: map[string]*exportAuth{}, serviceExports: map[string]*exportAuth{}}
	}
	// Accounts whose name is reserved or repeated were reported by
	// accountNames.
	var valid []*AccountOptions
	for i := range accounts {
		if byName[accounts[i].Name] == &accounts[i] {
			valid = append(valid, &accounts[i])
		}
	}
	var errs []error
	for _, acc := range valid {
		for i := range acc.Exports {
			if err := g.addExport(g.accounts[acc.Name], &acc.Exports[i], byName); err != nil {
				errs = append(errs, &AccountError{Account: acc.Name, Item: "export", Index: i, Err: err})
			}
		}
	}
	// Imports in configuration order, streams before services.
	for _, services := range []bool{false, true} {
		for _, acc := range valid {
			a := g.accounts[acc.Name]
			dups := map[string][]importEdge{}
			for j := range acc.Imports {
				im := &acc.Imports[j]
				if (im.Service != nil) != services {
					continue
				}
				if err := g.addImport(a, im, dups); err != nil {
					errs = append(errs, &AccountError{Account: a.name, Item: "import", Index: j, Err: err})
				}
			}
		}
	}
	return errs
}

func (g *graph) addExport(a *accountGraph, e *Export, byName map[string]*AccountOptions) error {
	if (e.Stream == "") == (e.Service == "") {
		return errExportNeedsOneKind
	}
	kind, exports := "stream", a.streamExports
	if e.Service != "" {
		kind, exports = "service", a.serviceExports
		switch strings.ToLower(e.ResponseType) {
		case "", ResponseSingleton, ResponseStream, ResponseChunked:
		default:
			return fmt.Errorf("Unknown response type: %q", e.ResponseType)
		}
		if e.ResponseThreshold < 0 {
			return fmt.Errorf("Error adding service export response threshold for %q: negative threshold", e.Service)
		}
	} else {
		switch {
		case e.ResponseType != "" || e.ResponseThreshold != 0:
			return errResponseOnStream
		case e.AllowTrace:
			return errAllowTraceOnStream
		}
	}
	sub := e.Subject()
	if !subject.Valid(sub) {
		return fmt.Errorf("Error adding %s export %q: %w", kind, sub, errInvalidSubject)
	}
	for _, name := range e.Accounts {
		if byName[name] == nil {
			return fmt.Errorf("%q account not defined for %s export", name, kind)
		}
	}
	// Exporting a subject again widens who may import it; a public entry
	// does not lift the restriction of another.
	ea := exports[sub]
	if ea == nil {
		ea = &exportAuth{approved: map[string]bool{}}
		exports[sub] = ea
	}
	if e.Accounts != nil {
		ea.restricted = true
		for _, name := range e.Accounts {
			ea.approved[name] = true
		}
	}
	return nil
}

// approved reports whether importer may import sub from exports: the
// export of that very subject decides, or else one the subject is a
// subset of.
func approved(exports map[string]*exportAuth, importer, sub string) bool {
	if !subject.Valid(sub) {
		return false
	}
	if ea, ok := exports[sub]; ok {
		return ea.allows(importer)
	}
	// nats-server takes the first subset match in map order; any one that
	// admits the importer is the deterministic reading of that.
	for s, ea := range exports {
		if isSubsetMatch(sub, s) && ea.allows(importer) {
			return true
		}
	}
	return false
}

func (g *graph) addImport(a *accountGraph, im *Import, dups map[string][]importEdge) error {
	if (im.Stream == nil) == (im.Service == nil) {
		return errImportNeedsOneSource
	}
	if im.Stream != nil {
		return g.addStreamImport(a, im)
	}
	return g.addServiceImport(a, im, dups)
}

func (g *graph) addStreamImport(a *accountGraph, im *Import) error {
	src := im.Stream
	switch {
	case src.Account == "" || src.Subject == "":
		return errImportNeedsAccSubj
	case im.Prefix != "" && im.To != "":
		return errPrefixAndTo
	case im.Share:
		return errShareOnStream
	}
	target := g.accounts[src.Account]
	if target == nil {
		return fmt.Errorf("%q account not defined for stream import", src.Account)
	}
	fail := func(err error) error { return fmt.Errorf("Error adding stream import %q: %w", src.Subject, err) }
	from, to := src.Subject, im.To
	if !approved(target.streamExports, a.name, from) {
		return fail(errStreamImportAuth)
	}
	if im.Prefix != "" {
		prefix := strings.TrimSuffix(im.Prefix, ".")
		if !subject.ValidLiteral(prefix) {
			return fail(errStreamImportPrefix)
		}
		to = prefix + "." + from
	}
	if to == "" {
		to = from
	}
	if g.streamFormsCycle(a, target, to) || g.streamFormsCycle(a, target, from) {
		return fail(errImportFormsCycle)
	}
	if subject.HasWildcard(from) && to != from {
		if _, err := subject.NewTransform(from, tokenize(to)); err != nil {
			return fail(fmt.Errorf("failed to create mapping transform for stream import subject from %q to %q: %w", from, to, err))
		}
		to = untokenize(to)
	}
	for _, e := range a.streamImports {
		if e.account == target.name && e.from == from {
			return fail(errStreamImportDup)
		}
	}
	a.streamImports = append(a.streamImports, importEdge{account: target.name, from: from, to: to})
	return nil
}

// tokenize numbers the '*' tokens of a stream import's local subject, the
// form of a transform destination ("p.*.*" becomes "p.$1.$2").
func tokenize(s string) string {
	toks := strings.Split(s, ".")
	n := 0
	for i, t := range toks {
		if t == "*" {
			n++
			toks[i] = "$" + strconv.Itoa(n)
		}
	}
	return strings.Join(toks, ".")
}

func (g *graph) addServiceImport(a *accountGraph, im *Import, dups map[string][]importEdge) error {
	src := im.Service
	switch {
	case src.Account == "" || src.Subject == "":
		return errImportNeedsAccSubj
	case im.AllowTrace:
		return errAllowTraceOnService
	case im.Prefix != "":
		return errPrefixOnService
	}
	local := im.To
	if local == "" {
		local = src.Subject
	}
	for _, d := range dups[local] {
		if d.account == src.Account {
			return fmt.Errorf("Duplicate service import subject %q, previously used in import for account %q, subject %q",
				local, d.account, d.to)
		}
	}
	dups[local] = append(dups[local], importEdge{account: src.Account, from: local, to: src.Subject})
	target := g.accounts[src.Account]
	if target == nil {
		return fmt.Errorf("%q account not defined for service import", src.Account)
	}
	fail := func(err error) error { return fmt.Errorf("Error adding service import %q: %w", src.Subject, err) }
	from, to := local, src.Subject
	if !subject.Valid(from) || !subject.Valid(to) {
		return fail(errInvalidSubject)
	}
	if !approved(target.serviceExports, a.name, to) {
		return fail(errServiceImportAuth)
	}
	fromT := from
	if subject.HasWildcard(to) {
		fromT = untokenize(from)
	}
	if g.serviceCycle(target, fromT, map[string]bool{a.name: true}) {
		return fail(errImportFormsCycle)
	}
	a.serviceImports = append(a.serviceImports, importEdge{account: target.name, from: from, to: to})
	return nil
}

// serviceCycle follows the service imports of a whose exported subject
// collides with from, back to an account already visited (nats-server's
// checkServiceImportsForCycles). Each step visits a new account, so the
// walk ends.
func (g *graph) serviceCycle(a *accountGraph, from string, visited map[string]bool) bool {
	for _, si := range a.serviceImports {
		if !subjectsCollide(from, si.to) {
			continue
		}
		if visited[si.account] {
			return true
		}
		visited[a.name] = true
		if isSubsetMatch(si.from, from) {
			from = si.from
		}
		if g.serviceCycle(g.accounts[si.account], from, visited) {
			return true
		}
	}
	return false
}

// streamFormsCycle reports whether importing into a from target, with to as
// the subject, closes a loop of stream imports.
func (g *graph) streamFormsCycle(a, target *accountGraph, to string) bool {
	return g.streamCycle(target, to, map[string]bool{a.name: true})
}

// streamCycle is nats-server's checkStreamImportsForCycles: only an
// account that exports the subject passes it on.
func (g *graph) streamCycle(a *accountGraph, to string, visited map[string]bool) bool {
	exported := false
	for s := range a.streamExports {
		if isSubsetMatch(to, s) {
			exported = true
			break
		}
	}
	if !exported {
		return false
	}
	for _, si := range a.streamImports {
		if !subjectsCollide(to, si.to) {
			continue
		}
		if visited[si.account] {
			return true
		}
		visited[a.name] = true
		if isSubsetMatch(si.to, to) {
			to = si.to
		}
		if g.streamCycle(g.accounts[si.account], to, visited) {
			return true
		}
	}
	return false
}
