package subject

import (
	"strconv"
	"strings"
)

// fn is what a destination token does.
type fn uint8

const (
	fnLiteral fn = iota
	fnRest       // '>': what the source's '>' matched
	fnWildcard
	fnPartition
	fnSplitFromLeft
	fnSplitFromRight
	fnSliceFromLeft
	fnSliceFromRight
	fnSplit
	fnLeft
	fnRight
)

// funcNames spells each mapping function the way nats-server recognises
// it: the first letter of each word may be either case, every other
// letter must be as written ("SplitFromLeft" and "splitfromleft" work,
// "SPLIT" does not).
var funcNames = []struct {
	name string
	fn   fn
}{
	{"wildcard", fnWildcard},
	{"partition", fnPartition},
	{"splitFromLeft", fnSplitFromLeft},
	{"splitFromRight", fnSplitFromRight},
	{"sliceFromLeft", fnSliceFromLeft},
	{"sliceFromRight", fnSliceFromRight},
	{"split", fnSplit},
	{"left", fnLeft},
	{"right", fnRight},
}

func lookupFunc(name string) (fn, bool) {
	for _, f := range funcNames {
		if sameFuncName(name, f.name) {
			return f.fn, true
		}
	}
	return 0, false
}

func sameFuncName(got, want string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := 0; i < len(want); i++ {
		w, g := want[i], got[i]
		if g == w {
			continue
		}
		wordStart := i == 0 || (w >= 'A' && w <= 'Z')
		if !wordStart || g|0x20 != w|0x20 {
			return false
		}
	}
	return true
}

// funcToken is a parsed destination token before its wildcard indexes
// are checked against the source.
type funcToken struct {
	fn   fn
	wild []int  // 1-based '*' indexes the function reads
	n    int    // partition count, split position, slice size or length
	str  string // literal text or split delimiter
}

// isFuncSyntax reports a "{{…}}" token; nats-server takes anything
// shorter than five bytes ("{{}}") as a literal.
func isFuncSyntax(tok string) bool {
	return len(tok) > 4 && strings.HasPrefix(tok, "{{") && strings.HasSuffix(tok, "}}")
}

// splitCall takes "{{ name ( args ) }}" apart; ok is false when the
// token is not a call at all.
func splitCall(tok string) (name, args string, ok bool) {
	in := strings.TrimSpace(tok[2 : len(tok)-2])
	open := strings.IndexByte(in, '(')
	if open < 0 || !strings.HasSuffix(in, ")") {
		return "", "", false
	}
	return strings.TrimSpace(in[:open]), in[open+1 : len(in)-1], true
}

// parseDestToken parses one destination token: a literal, "$N" (the
// older spelling of {{wildcard(N)}}) or a mapping function call.
func parseDestToken(tok string) (funcToken, error) {
	if len(tok) > 1 && tok[0] == '$' {
		// "$name" that is not a number is a plain literal: other
		// features put '$' at the start of tokens.
		if n, err := strconv.Atoi(tok[1:]); err == nil {
			return funcToken{fn: fnWildcard, wild: []int{n}}, nil
		}
		return funcToken{fn: fnLiteral, str: tok}, nil
	}
	if !isFuncSyntax(tok) {
		return funcToken{fn: fnLiteral, str: tok}, nil
	}
	name, rawArgs, ok := splitCall(tok)
	f, known := lookupFunc(name)
	if !ok || !known {
		return funcToken{}, destErr(tok, ErrUnknownMappingDestinationFunction)
	}
	args := splitArgs(rawArgs)
	switch f {
	case fnWildcard:
		return parseWildcard(tok, args)
	case fnPartition:
		return parsePartition(tok, args)
	case fnSplit:
		return parseSplit(tok, args)
	default:
		return parseIndexInt(tok, f, args)
	}
}

// splitArgs splits on commas and drops the white space after each comma
// (not before), as nats-server does.
func splitArgs(s string) []string {
	args := strings.Split(s, ",")
	for i := 1; i < len(args); i++ {
		args[i] = strings.TrimLeft(args[i], " \t\n\f\r")
	}
	return args
}

func atoiArg(s string) (int, error) { return strconv.Atoi(strings.Trim(s, " ")) }

func parseWildcard(tok string, args []string) (funcToken, error) {
	switch {
	case len(args) == 1 && args[0] == "":
		return funcToken{}, destErr(tok, ErrMappingDestinationNotEnoughArgs)
	case len(args) > 1:
		return funcToken{}, destErr(tok, ErrMappingDestinationTooManyArgs)
	}
	n, err := atoiArg(args[0])
	if err != nil {
		return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
	}
	return funcToken{fn: fnWildcard, wild: []int{n}}, nil
}

func parsePartition(tok string, args []string) (funcToken, error) {
	if len(args) < 2 {
		return funcToken{}, destErr(tok, ErrMappingDestinationNotEnoughArgs)
	}
	count, err := atoiArg(args[0])
	if err != nil {
		return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
	}
	wild := make([]int, 0, len(args)-1)
	for _, a := range args[1:] {
		i, err := atoiArg(a)
		if err != nil {
			return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
		}
		wild = append(wild, i)
	}
	// nats-server accepts a count below one and then divides by it (zero)
	// or wraps it (negative) when a message arrives: refuse it here.
	if count < 1 || count > maxPartitions {
		return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
	}
	return funcToken{fn: fnPartition, wild: wild, n: count}, nil
}

// maxPartitions keeps the count in nats-server's int32 argument.
const maxPartitions = 1<<31 - 1

func parseSplit(tok string, args []string) (funcToken, error) {
	switch {
	case len(args) < 2:
		return funcToken{}, destErr(tok, ErrMappingDestinationNotEnoughArgs)
	case len(args) > 2:
		return funcToken{}, destErr(tok, ErrMappingDestinationTooManyArgs)
	}
	i, err := atoiArg(args[0])
	if err != nil || strings.ContainsAny(args[1], " .") {
		return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
	}
	return funcToken{fn: fnSplit, wild: []int{i}, str: args[1]}, nil
}

// parseIndexInt parses the functions taking (wildcard index, integer).
func parseIndexInt(tok string, f fn, args []string) (funcToken, error) {
	switch {
	case len(args) < 2:
		return funcToken{}, destErr(tok, ErrMappingDestinationNotEnoughArgs)
	case len(args) > 2:
		return funcToken{}, destErr(tok, ErrMappingDestinationTooManyArgs)
	}
	i, err := atoiArg(args[0])
	if err != nil {
		return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
	}
	n, err := strconv.ParseInt(strings.Trim(args[1], " "), 10, 32)
	if err != nil {
		return funcToken{}, destErr(tok, ErrMappingDestinationInvalidArg)
	}
	return funcToken{fn: f, wild: []int{i}, n: int(n)}, nil
}
