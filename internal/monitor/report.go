package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// ReportError is a report that could not be built, with the code
// nats-server puts in a $SYS reply's "error". A body that is not JSON is
// refused before any report is built, and nats-server then leaves "data"
// out of its reply; an option it cannot use (an unknown sort, an account
// that does not exist) fails while building, and "data" is then null.
type ReportError struct {
	Code        int
	Description string
	nullData    bool
}

func (e *ReportError) Error() string { return e.Description }

// StatusCode is nats-server's code for the error: 400 or 500.
func (e *ReportError) StatusCode() int { return e.Code }

// NullData reports whether the reply carries "data": null (true) or no
// "data" at all (false).
func (e *ReportError) NullData() bool { return e.nullData }

// ErrNoReply is returned when nats-server sends no reply at all: an
// account STATZ request that finds no account with connections and does
// not ask for unused ones.
// It says so to the system account's services through NoReply.
var ErrNoReply error = noReply{}

type noReply struct{}

func (noReply) Error() string { return "monitor: nothing to report" }

// NoReply tells the system account's services to send nothing.
func (noReply) NoReply() bool { return true }

// badBody is the error for a request body that does not decode.
func badBody(err error) error {
	return &ReportError{Code: http.StatusBadRequest, Description: err.Error()}
}

// badOption is the error for an option the report cannot use.
func badOption(err error) error {
	return &ReportError{Code: http.StatusInternalServerError, Description: err.Error(), nullData: true}
}

// Report builds the monitoring report kind for the options in body
// (nats-server's $SYS request body: JSON with the same option names as
// the HTTP query parameters; an empty body asks for the defaults).
// account "" is the server-wide report; a non-empty account restricts it
// to that account, as the $SYS.REQ.ACCOUNT.<account>.<kind> requests do.
//
// Server-wide kinds: STATSZ, VARZ, CONNZ, SUBSZ, ROUTEZ, JSZ, HEALTHZ,
// ACCOUNTZ, and STATZ (every account's, as $SYS.REQ.ACCOUNT.PING.STATZ).
// Per-account kinds: CONNZ, SUBSZ, JSZ, INFO, STATZ.
//
// The value marshals to the "data" nats-server puts in its reply (for
// STATSZ, its "statsz"). Errors are *ReportError, or ErrNoReply when
// nats-server would not answer.
func (m *Server) Report(kind, account string, body []byte) (any, error) {
	b, ok := builders[reportKey{kind, account != ""}]
	if !ok {
		return nil, &ReportError{Code: http.StatusBadRequest, Description: fmt.Sprintf("unknown report %q", kind)}
	}
	return b(m, account, body)
}

type reportKey struct {
	kind       string
	perAccount bool
}

type builder func(m *Server, account string, body []byte) (any, error)

// decode fills opts from body, leaving the defaults when body is empty.
func decode(body []byte, opts any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, opts); err != nil {
		return badBody(err)
	}
	return nil
}

// build decodes the options of type O and calls f with them.
func build[O any, R any](f func(m *Server, account string, o *O) (R, error)) builder {
	return func(m *Server, account string, body []byte) (any, error) {
		o := new(O)
		if err := decode(body, o); err != nil {
			return nil, err
		}
		r, err := f(m, account, o)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// builders maps each report to the function that decodes its options
// and builds it; the HTTP handlers call the same functions.
var builders = map[reportKey]builder{
	{"STATSZ", false}: build(func(m *Server, _ string, _ *StatszOptions) (*Statsz, error) { return m.statsz(), nil }),
	{"VARZ", false}:   build(func(m *Server, _ string, _ *VarzOptions) (*Varz, error) { return m.varz(), nil }),
	{"CONNZ", false}:  build(func(m *Server, _ string, o *ConnzOptions) (*Connz, error) { return m.connzReport(o) }),
	{"CONNZ", true}: build(func(m *Server, acc string, o *ConnzOptions) (*Connz, error) {
		o.Account = acc
		return m.connzReport(o)
	}),
	{"SUBSZ", false}: build(func(m *Server, _ string, o *SubszOptions) (*Subsz, error) { return m.subszReport(o) }),
	{"SUBSZ", true}: build(func(m *Server, acc string, o *SubszOptions) (*Subsz, error) {
		o.Account, o.Subscriptions = acc, true
		return m.subszReport(o)
	}),
	{"ROUTEZ", false}: build(func(m *Server, _ string, o *RoutezOptions) (*Routez, error) { return m.routez(o), nil }),
	{"JSZ", false}:    build(func(m *Server, _ string, o *JszOptions) (any, error) { return m.jsz(o) }),
	{"JSZ", true}: build(func(m *Server, acc string, o *JszOptions) (any, error) {
		return m.jszAccount(acc, o)
	}),
	{"HEALTHZ", false}: build(func(m *Server, _ string, o *HealthzOptions) (*HealthStatus, error) {
		st, _ := m.healthz(o)
		return st, nil
	}),
	{"ACCOUNTZ", false}: build(func(m *Server, _ string, o *AccountzOptions) (*Accountz, error) { return m.accountz(o) }),
	{"INFO", true}: build(func(m *Server, acc string, _ *AccountInfoOptions) (*AccountInfo, error) {
		return m.accountInfo(acc)
	}),
	{"STATZ", false}: build(func(m *Server, _ string, o *AccountStatzOptions) (*AccountStatz, error) {
		return m.accountStatzReport(o)
	}),
	{"STATZ", true}: build(func(m *Server, acc string, o *AccountStatzOptions) (*AccountStatz, error) {
		o.Accounts = []string{acc}
		return m.accountStatzReport(o)
	}),
}
