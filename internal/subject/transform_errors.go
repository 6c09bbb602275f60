package subject

import (
	"errors"
	"fmt"
)

// The errors a transform or mapping refuses with. Their texts are
// nats-server's, so a configuration or a JetStream API error reads the
// same whichever server the user runs.
var (
	ErrBadSubject = errors.New("invalid subject")

	// ErrInvalidMappingDestination is wrapped by every destination error
	// below: errors.Is(err, ErrInvalidMappingDestination) tells a bad
	// destination from a bad source.
	ErrInvalidMappingDestination = errors.New("invalid mapping destination")

	ErrInvalidMappingDestinationSubject  = fmt.Errorf("%w: invalid transform", ErrInvalidMappingDestination)
	ErrUnknownMappingDestinationFunction = fmt.Errorf("%w: unknown function", ErrInvalidMappingDestination)
	ErrMappingDestinationIndexOutOfRange = fmt.Errorf("%w: wildcard index out of range", ErrInvalidMappingDestination)
	ErrMappingDestinationNotEnoughArgs   = fmt.Errorf("%w: not enough arguments passed to the function", ErrInvalidMappingDestination)
	ErrMappingDestinationInvalidArg      = fmt.Errorf("%w: function argument is invalid or in the wrong format", ErrInvalidMappingDestination)
	ErrMappingDestinationTooManyArgs     = fmt.Errorf("%w: too many arguments passed to the function", ErrInvalidMappingDestination)
)

// DestinationError names the destination token a mapping error is about:
// "<reason> in <token>".
type DestinationError struct {
	Token string
	Err   error
}

func (e *DestinationError) Error() string { return fmt.Sprintf("%s in %s", e.Err, e.Token) }

func (e *DestinationError) Unwrap() error { return e.Err }

func destErr(token string, err error) error { return &DestinationError{Token: token, Err: err} }
