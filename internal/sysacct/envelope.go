// Package sysacct runs the system account's services: the $SYS.REQ.…
// requests that report on the server and its accounts, and the $SYS.…
// events (connections, authentication failures, periodic statistics, lame
// duck, shutdown), with nats-server's subjects and JSON.
//
// Requests arrive on in-process subscriptions, on the publisher's
// goroutine; the handler only reads the subject (to decline what nobody
// serves) and queues the work. One worker answers requests, one sender
// publishes events, each from a bounded queue whose overflow is counted
// and dropped: a client's read loop never waits for the system account.
package sysacct

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// ServerInfo is the "server" block of every reply and event, and the
// whole body of SHUTDOWN and LAMEDUCK.
type ServerInfo struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	ID        string    `json:"id"`
	Cluster   string    `json:"cluster,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Version   string    `json:"ver"`
	JetStream bool      `json:"jetstream"`
	Flags     uint64    `json:"flags"` // 2.11 sends it always; 2.9 had none
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
}

// flagJetStream is nats-server's capability bit for JetStream.
const flagJetStream = 1

// apiError is a reply's "error".
type apiError struct {
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// response is the envelope of a reply. Data is left out when nil; a
// report whose error says so carries "data": null (nullData).
type response struct {
	Server *ServerInfo `json:"server"`
	Data   any         `json:"data,omitempty"`
	Error  *apiError   `json:"error,omitempty"`
}

// statszMsg is a STATSZ reply or event: nats-server names its data
// "statsz", not "data".
type statszMsg struct {
	Server *ServerInfo `json:"server"`
	Stats  any         `json:"statsz"`
}

// nullData encodes as JSON null where omitempty would drop a nil.
var nullData = json.RawMessage("null")

// Reporter supplies the monitoring data of a request. kind is the
// request's last token; account is "" for server-wide kinds. An error
// may implement StatusCode() int and NullData() bool.
type Reporter interface {
	Report(kind, account string, body []byte) (any, error)
}

// errorResponse turns a report's error into the reply's fields.
func errorResponse(err error) (*apiError, any) {
	ae := &apiError{Code: http.StatusInternalServerError, Description: err.Error()}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		ae.Code = sc.StatusCode()
	}
	var nd interface{ NullData() bool }
	if errors.As(err, &nd) && nd.NullData() {
		return ae, nullData
	}
	return ae, nil
}

// eventFilter is the part of a request's options that picks which servers
// answer (nats-server's EventFilterOptions): each set field must be a
// substring of this server's (the domain must be equal).
type eventFilter struct {
	Name    string   `json:"server_name,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	Host    string   `json:"host,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Domain  string   `json:"domain,omitempty"`
}
