package sysacct

import (
	"fmt"
	"time"

	"github.com/nats-io/nuid"

	"github.com/starling-mq/starling/internal/core"
)

// Advisory types, as nats-server names them.
const (
	connectType    = "io.nats.server.advisory.v1.client_connect"
	disconnectType = "io.nats.server.advisory.v1.client_disconnect"
)

// clientInfo is an event's "client" block.
type clientInfo struct {
	Start      *time.Time    `json:"start,omitempty"`
	Host       string        `json:"host,omitempty"`
	ID         uint64        `json:"id,omitempty"`
	Account    string        `json:"acc,omitempty"`
	User       string        `json:"user,omitempty"`
	Name       string        `json:"name,omitempty"`
	Lang       string        `json:"lang,omitempty"`
	Version    string        `json:"ver,omitempty"`
	RTT        time.Duration `json:"rtt,omitempty"`
	Stop       *time.Time    `json:"stop,omitempty"`
	Kind       string        `json:"kind,omitempty"`
	ClientType string        `json:"client_type,omitempty"`
}

type dataStats struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

type connectEvent struct {
	Type   string      `json:"type"`
	ID     string      `json:"id"`
	Time   time.Time   `json:"timestamp"`
	Server *ServerInfo `json:"server"`
	Client clientInfo  `json:"client"`
}

type disconnectEvent struct {
	connectEvent
	Sent     dataStats `json:"sent"`
	Received dataStats `json:"received"`
	Reason   string    `json:"reason"`
}

// clientEvent builds the subject and body of a client event; si is the
// server block to send it with.
func clientEvent(ev core.ClientEvent, serverID string, si *ServerInfo) (string, any) {
	ci := ev.Info
	start := ci.Start.UTC()
	c := clientInfo{
		Start: &start, Host: ci.IP, ID: ci.CID, Account: ev.Account, User: ci.User,
		Name: ci.Name, Lang: ci.Lang, Version: ci.Version, RTT: ci.RTT,
		Kind: "Client", ClientType: "nats",
	}
	base := connectEvent{ID: nuid.Next(), Server: si, Client: c}
	if ev.Kind == core.EventConnect {
		base.Type, base.Time = connectType, time.Now().UTC()
		base.Client.RTT = 0 // not measured yet
		return fmt.Sprintf(connectFmt, ev.Account), &base
	}
	stop := ci.Stop.UTC()
	base.Type, base.Time, base.Client.Stop = disconnectType, stop, &stop
	d := &disconnectEvent{connectEvent: base, Reason: ci.Reason,
		// As nats-server counts them, from the client's side: sent is what
		// the client published, received what the server delivered to it.
		Sent:     dataStats{Msgs: ci.InMsgs, Bytes: ci.InBytes},
		Received: dataStats{Msgs: ci.OutMsgs, Bytes: ci.OutBytes}}
	if ev.Kind == core.EventAuthError {
		return fmt.Sprintf(authErrFmt, serverID), d
	}
	return fmt.Sprintf(disconnectFmt, ev.Account), d
}
