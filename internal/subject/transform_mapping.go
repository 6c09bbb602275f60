package subject

import "strings"

// NewMappingTransform compiles the transform of an account subject
// mapping ("mappings { src: dest }"). It refuses more than NewTransform,
// as nats-server's mapping validation does:
//
//   - an empty destination, an empty token or a token after '>'
//     ("invalid transform in <token>");
//   - left() and right(): nats-server 2.9 and 2.11 accept them in stream
//     transforms but not in mappings ("unknown function");
//   - white space in a literal token;
//   - a source ending in '>' whose destination does not ("invalid
//     subject").
func NewMappingTransform(src, dest string) (*Transform, error) {
	if err := checkMappingDest(dest); err != nil {
		return nil, err
	}
	return compile(src, dest, true)
}

func checkMappingDest(dest string) error {
	sawFWC := false
	for _, tok := range strings.Split(dest, ".") {
		if tok == "" || sawFWC {
			return destErr(tok, ErrInvalidMappingDestinationSubject)
		}
		if isFuncSyntax(tok) {
			name, _, ok := splitCall(tok)
			f, known := lookupFunc(name)
			if !ok || !known || f == fnLeft || f == fnRight {
				return destErr(tok, ErrUnknownMappingDestinationFunction)
			}
			continue
		}
		if tok == ">" {
			sawFWC = true
		} else if strings.ContainsAny(tok, "\t\n\f\r ") {
			return ErrInvalidMappingDestinationSubject
		}
	}
	return nil
}
