package proto

import (
	"encoding/json"
	"fmt"
)

// Info is the JSON body of the INFO line a server sends on connect. Field
// names and order follow nats-server, so clients that key features off them
// (headers, auth_required, connect_urls, ldm) behave the same.
type Info struct {
	ServerID     string   `json:"server_id"`
	ServerName   string   `json:"server_name"`
	Version      string   `json:"version"`
	Proto        int      `json:"proto"`
	GitCommit    string   `json:"git_commit,omitempty"`
	Go           string   `json:"go"`
	Host         string   `json:"host"`
	Port         int      `json:"port"`
	Headers      bool     `json:"headers"`
	AuthRequired bool     `json:"auth_required,omitempty"`
	TLSRequired  bool     `json:"tls_required,omitempty"`
	TLSVerify    bool     `json:"tls_verify,omitempty"`
	TLSAvailable bool     `json:"tls_available,omitempty"`
	MaxPayload   int32    `json:"max_payload"`
	JetStream    bool     `json:"jetstream,omitempty"`
	IP           string   `json:"ip,omitempty"`
	ClientID     uint64   `json:"client_id,omitempty"`
	ClientIP     string   `json:"client_ip,omitempty"`
	Nonce        string   `json:"nonce,omitempty"`
	Cluster      string   `json:"cluster,omitempty"`
	Domain       string   `json:"domain,omitempty"`
	ConnectURLs  []string `json:"connect_urls,omitempty"`
	LameDuckMode bool     `json:"ldm,omitempty"`
}

// AppendInfoLine appends "INFO {json} \r\n". The space before CRLF is
// nats-server's, kept so that byte-exact clients and tests see the same line.
func AppendInfoLine(b []byte, info *Info) []byte {
	js, err := json.Marshal(info)
	if err != nil {
		// Info holds only strings, numbers and bools: Marshal cannot fail.
		panic(fmt.Sprintf("proto: marshal INFO: %v", err))
	}
	b = append(b, "INFO "...)
	b = append(b, js...)
	return append(b, ' ', '\r', '\n')
}

// ConnectOptions is the JSON body of a client's CONNECT.
type ConnectOptions struct {
	Echo         bool   `json:"echo"`
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	TLSRequired  bool   `json:"tls_required"`
	Nkey         string `json:"nkey,omitempty"`
	JWT          string `json:"jwt,omitempty"`
	Sig          string `json:"sig,omitempty"`
	Token        string `json:"auth_token,omitempty"`
	User         string `json:"user,omitempty"`
	Pass         string `json:"pass,omitempty"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Account      string `json:"account,omitempty"`
	NewAccount   bool   `json:"new_account,omitempty"`
	Headers      bool   `json:"headers,omitempty"`
	NoResponders bool   `json:"no_responders,omitempty"`
}

// DefaultConnectOptions are in force before a client sends CONNECT, and
// fields CONNECT leaves out keep these values. nats-server starts every
// client verbose, pedantic and with echo on; real clients turn the first two
// off explicitly, while a person typing into telnet gets +OK acknowledgements.
func DefaultConnectOptions() ConnectOptions {
	return ConnectOptions{Verbose: true, Pedantic: true, Echo: true}
}

// Client protocol levels a CONNECT may announce.
const (
	ClientProtoZero = 0 // original protocol
	ClientProtoInfo = 1 // the client accepts async INFO updates
)

// ParseConnect decodes a CONNECT argument over the options already in
// force, so fields the client leaves out keep their values.
func ParseConnect(arg []byte, opts *ConnectOptions) error {
	if err := json.Unmarshal(arg, opts); err != nil {
		return fmt.Errorf("CONNECT: %w", err)
	}
	return nil
}

// ParseInfo decodes an INFO argument.
func ParseInfo(arg []byte, info *Info) error {
	if err := json.Unmarshal(arg, info); err != nil {
		return fmt.Errorf("INFO: %w", err)
	}
	return nil
}
