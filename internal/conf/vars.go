package conf

import (
	"fmt"
	"strings"
)

// envKey is the key an environment variable's text is assigned to when it
// is parsed; the name is nats-server's, so a value that refers to $pk
// behaves the same way.
const envKey = "pk"

// resolve looks up a $variable whose reference starts at off. The name is
// everything after '$' up to the end of the word.
//
// The lookup order is nats-server's: a key set earlier in the innermost
// open block, then in each enclosing block out to the top of the file, then
// the environment. Arrays are not scopes. Keys set later, and keys of the
// file that included this one, are not visible.
func (p *parser) resolve(name string, off int) (*Value, error) {
	at := p.pos(off)
	// bcrypt hashes look like "$2a$11$..."; nats-server passes them
	// through as strings so they need no quotes. Only the 2a variant.
	if strings.HasPrefix(name, "2a$") {
		return &Value{Kind: KindString, Pos: at, str: "$" + name}, nil
	}
	for i := len(p.scopes) - 1; i >= 0; i-- {
		if v, ok := p.scopes[i].Get(name); ok {
			p.scopes[i].markReferenced(name)
			return v.at(at), nil
		}
	}
	v, err := p.fromEnv(name, off)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, p.errAt(off, "undefined variable $%s: no key %q earlier in this block or an enclosing one, and no such environment variable", name, name)
	}
	return v, nil
}

// fromEnv returns the environment variable name parsed as a config value,
// or nil if it is not set. Like nats-server it parses the text as the
// one-line config "pk=<text>", so "4k" becomes 4000, "'3x'" the string 3x,
// and "$OTHER" is resolved in turn; a cycle is an error.
func (p *parser) fromEnv(name string, off int) (*Value, error) {
	if p.ld.envActive[name] {
		return nil, p.errAt(off, "variable $%s refers to itself through the environment", name)
	}
	text, ok := p.ld.lookupEnv(name)
	if !ok {
		return nil, nil
	}
	if err := p.enter(off); err != nil {
		return nil, err
	}
	defer p.leave()
	p.ld.envActive[name] = true
	defer delete(p.ld.envActive, name)

	m, err := p.ld.parseText(envKey+"="+text, "$"+name, ".", len(envKey)+1)
	if err != nil {
		e := &Error{Pos: p.pos(off), Err: err, Msg: fmt.Sprintf("in environment variable %s: %v", name, err)}
		if ie, ok := err.(*Error); ok && ie.File == "$"+name {
			e.Msg = fmt.Sprintf("in environment variable %s at %d:%d: %s", name, ie.Line, ie.Col, ie.Msg)
		}
		return nil, e
	}
	v, ok := m.Get(envKey)
	if !ok {
		return nil, p.errAt(off, "environment variable %s does not hold a value", name)
	}
	return v.at(p.pos(off)), nil
}
