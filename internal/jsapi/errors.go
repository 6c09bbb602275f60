package jsapi

import (
	"fmt"
	"strings"
)

// ApiError is an API error as clients decode it: an HTTP-like status
// (code), the JetStream error code clients map to typed errors (err_code),
// and a description for people.
type ApiError struct {
	Code        int    `json:"code"`
	ErrCode     uint16 `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

// Error formats the error as nats-server does: "description (err_code)".
func (e *ApiError) Error() string { return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode) }

// IsID reports whether e is the catalog error id (by err_code).
func (e *ApiError) IsID(id ErrorID) bool { return e != nil && e.ErrCode == uint16(id) }

// ErrorID names a catalog entry; its value is the entry's err_code.
type ErrorID uint16

// catalogEntry is one error of the catalog.
type catalogEntry struct {
	constant string // nats-server's name for it, for tests and debugging
	code     int
	desc     string // may hold {placeholders}
}

// String returns nats-server's constant name for the error.
func (id ErrorID) String() string {
	if e, ok := catalog[id]; ok {
		return e.constant
	}
	return fmt.Sprintf("ErrorID(%d)", uint16(id))
}

// Code returns the HTTP-like status the error is sent with.
func (id ErrorID) Code() int { return catalog[id].code }

// Description returns the error's description template.
func (id ErrorID) Description() string { return catalog[id].desc }

// NewError builds the catalog error id. Arguments fill the description's
// {placeholders} in order ({err}, {seq}, {id}, {prefix} {subject}, …),
// formatted with fmt.Sprint; a placeholder without an argument is left as
// it is. When the first argument is itself a non-nil *ApiError it is
// returned unchanged, so an error that already carries its own code keeps
// it (nats-server's Unless option, which its stream and consumer handlers
// use when wrapping errors from lower layers).
func NewError(id ErrorID, args ...any) *ApiError {
	if len(args) > 0 {
		if ae, ok := args[0].(*ApiError); ok && ae != nil {
			return ae
		}
	}
	e, ok := catalog[id]
	if !ok {
		// A programming error; still send something a client can read.
		return &ApiError{Code: 500, ErrCode: uint16(id), Description: fmt.Sprintf("unknown error %d", uint16(id))}
	}
	return &ApiError{Code: e.code, ErrCode: uint16(id), Description: fill(e.desc, args)}
}

// fill replaces {placeholders} in desc with args, in order.
func fill(desc string, args []any) string {
	if len(args) == 0 || strings.IndexByte(desc, '{') < 0 {
		return desc
	}
	var b strings.Builder
	for len(desc) > 0 {
		i := strings.IndexByte(desc, '{')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(desc[i:], '}')
		}
		if i < 0 || j < 0 || len(args) == 0 {
			b.WriteString(desc)
			break
		}
		b.WriteString(desc[:i])
		b.WriteString(fmt.Sprint(args[0]))
		args = args[1:]
		desc = desc[i+j+1:]
	}
	return b.String()
}
