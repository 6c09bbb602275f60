package proto

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
)

// RouteInfo is the JSON body of INFO on a route connection. nats-server
// uses one INFO type for clients, routes, gateways and leafnodes and sends
// it whole, so this holds every field of nats-server 2.11's INFO, in its
// order and with its omitempty choices: marshalling what a peer sent gives
// back its bytes, and a server that forwards a peer's INFO to the rest of
// the cluster (gossip) keeps the fields it does not use itself.
type RouteInfo struct {
	ServerID     string `json:"server_id"`
	ServerName   string `json:"server_name"`
	Version      string `json:"version"`
	Proto        int    `json:"proto"` // RouteProto* level
	GitCommit    string `json:"git_commit,omitempty"`
	Go           string `json:"go"`
	Host         string `json:"host"` // the cluster listen host (or the advertised one)
	Port         int    `json:"port"` // the cluster listen port (or the advertised one)
	Headers      bool   `json:"headers"`
	AuthRequired bool   `json:"auth_required,omitempty"`
	TLSRequired  bool   `json:"tls_required,omitempty"`
	TLSVerify    bool   `json:"tls_verify,omitempty"`
	TLSAvailable bool   `json:"tls_available,omitempty"`
	MaxPayload   int32  `json:"max_payload"`
	JetStream    bool   `json:"jetstream,omitempty"`
	// IP is the route URL others should dial, "nats-route://host:port/"
	// (RouteURL). nats-server sets it in its own INFO only when the cluster
	// advertises an address; a receiver that finds it empty builds it from
	// the connection's remote address and Port before gossiping it on.
	IP       string `json:"ip,omitempty"`
	ClientID uint64 `json:"client_id,omitempty"`
	ClientIP string `json:"client_ip,omitempty"`
	// Nonce is in the first INFO of each connection; routes do not sign it.
	Nonce          string   `json:"nonce,omitempty"`
	Cluster        string   `json:"cluster,omitempty"`
	ClusterDynamic bool     `json:"cluster_dynamic,omitempty"` // the name was generated, not configured
	Domain         string   `json:"domain,omitempty"`
	ConnectURLs    []string `json:"connect_urls,omitempty"`    // client URLs of the sender
	WSConnectURLs  []string `json:"ws_connect_urls,omitempty"` // websocket client URLs of the sender
	LameDuckMode   bool     `json:"ldm,omitempty"`
	// Compression is the sender's route compression mode. Leaving it empty
	// announces no support, and nats-server then keeps the route plain.
	Compression string `json:"compression,omitempty"`

	// Route permissions of the sender: what it imports from and exports to
	// the cluster.
	Import *SubjectPermission `json:"import,omitempty"`
	Export *SubjectPermission `json:"export,omitempty"`
	// LNOC: the sender understands LS+ and LMSG (leafnode origin cluster).
	LNOC bool `json:"lnoc,omitempty"`
	// LNOCU: the sender understands LS- with the origin cluster.
	LNOCU         bool `json:"lnocu,omitempty"`
	InfoOnConnect bool `json:"info_on_connect,omitempty"` // leafnodes
	ConnectInfo   bool `json:"connect_info,omitempty"`    // leafnodes
	// Route pooling (nats-server 2.10+): the sender opens RoutePoolSize
	// connections to each peer and this is the one at RoutePoolIdx; or,
	// with RouteAccount set, the connection is pinned to that account.
	RoutePoolSize int    `json:"route_pool_size,omitempty"`
	RoutePoolIdx  int    `json:"route_pool_idx,omitempty"`
	RouteAccount  string `json:"route_account,omitempty"`
	// RouteAccReqID marks an INFO that adds a pinned account at run time
	// (a config reload) and its answer.
	RouteAccReqID string `json:"route_acc_add_reqid,omitempty"`
	// GossipMode (nats-server 2.11+) tells the receiver whether to pass this
	// INFO on to its own routes: Gossip*.
	GossipMode uint8 `json:"gossip_mode,omitempty"`

	// Gateways: a route INFO carries the sender's GatewayURL; the rest are
	// sent on gateway connections and in gateway INFO forwarded over routes.
	Gateway           string   `json:"gateway,omitempty"`
	GatewayURLs       []string `json:"gateway_urls,omitempty"`
	GatewayURL        string   `json:"gateway_url,omitempty"`
	GatewayCmd        uint8    `json:"gateway_cmd,omitempty"`
	GatewayCmdPayload []byte   `json:"gateway_cmd_payload,omitempty"`
	GatewayNRP        bool     `json:"gateway_nrp,omitempty"`
	GatewayIOM        bool     `json:"gateway_iom,omitempty"`

	// Leafnodes: on a route, the sender's one leafnode URL.
	LeafNodeURLs  []string `json:"leafnode_urls,omitempty"`
	RemoteAccount string   `json:"remote_account,omitempty"`
	XKey          string   `json:"xkey,omitempty"`

	// StarlingJetStream is Starling's own flag for JetStream, read by
	// Starling peers only (after every nats-server field): JetStream is
	// nats-server's, which would make a nats-server count this server
	// among its JetStream peers.
	StarlingJetStream bool `json:"starling_jetstream,omitempty"`
	// StarlingMeta names the members of the JetStream meta group the
	// server is in (as it knew them when it sent the INFO): a server that
	// is not among them must wait to be added rather than found a group
	// of its own.
	StarlingMeta []string `json:"starling_meta,omitempty"`
}

// SubjectPermission is one direction of route permissions as nats-server
// writes it in INFO.
type SubjectPermission struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// Route protocol levels a route INFO may announce (RouteInfo.Proto).
const (
	RouteProtoZero     = 0 // the original protocol
	RouteProtoInfo     = 1 // accepts INFO updates after the first
	RouteProtoV2       = 2 // accounts in RS+, RS- and RMSG (nats-server 2.0–2.10)
	RouteProtoMsgTrace = 3 // understands message tracing (nats-server 2.11+)
)

// Gossip modes (RouteInfo.GossipMode), nats-server 2.11+.
const (
	GossipDefault  = 0 // the receiver decides as usual
	GossipDisabled = 1 // do not forward this INFO
	GossipOverride = 2 // forward even an INFO learned through gossip
)

// Route compression modes this package names (RouteInfo.Compression).
// nats-server's s2_* modes compress the whole connection, which needs
// support below the parser.
const (
	CompressionNotSupported = "not supported"
	CompressionOff          = "off"
	CompressionAccept       = "accept"
)

// RouteURL returns the route URL of a host and port in the form INFO's ip
// field uses: nats-route://host:port/ (IPv6 hosts bracketed).
func RouteURL(host string, port int) string {
	return "nats-route://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"
}

// AppendRouteInfoLine appends "INFO {json} \r\n", with the space before
// CRLF that nats-server writes in the first INFO of a connection.
func AppendRouteInfoLine(b []byte, info *RouteInfo) []byte {
	js, err := json.Marshal(info)
	if err != nil {
		// RouteInfo holds only strings, numbers, bools and slices of them.
		panic(fmt.Sprintf("proto: marshal route INFO: %v", err))
	}
	b = append(b, "INFO "...)
	b = append(b, js...)
	return append(b, ' ', '\r', '\n')
}

// AppendRouteInfoUpdate appends an INFO line as nats-server writes the
// ones it sends after the first (gossip about another server, lame duck):
// without the space before CRLF that ends the first.
func AppendRouteInfoUpdate(b []byte, info *RouteInfo) []byte {
	b = AppendRouteInfoLine(b, info)
	b = b[:len(b)-3]
	return append(b, '\r', '\n')
}

// ParseRouteInfo decodes an INFO argument from a route.
func ParseRouteInfo(arg []byte, info *RouteInfo) error {
	if err := json.Unmarshal(arg, info); err != nil {
		return fmt.Errorf("route INFO: %w", err)
	}
	return nil
}

// RouteConnect is the JSON body of CONNECT on a route, which the dialling
// server sends before its INFO. Field order and omitempty follow
// nats-server; note the cluster flag is named cluster_dynamic here too.
type RouteConnect struct {
	Echo        bool   `json:"echo"`
	Verbose     bool   `json:"verbose"`
	Pedantic    bool   `json:"pedantic"`
	User        string `json:"user,omitempty"` // route credentials, from the route URL
	Pass        string `json:"pass,omitempty"`
	TLSRequired bool   `json:"tls_required"`
	Headers     bool   `json:"headers"`
	Name        string `json:"name"` // the dialling server's ID (not its name)
	Cluster     string `json:"cluster"`
	// ClusterDynamic: the dialler's cluster name was generated, so a
	// configured name on the other side wins.
	ClusterDynamic bool `json:"cluster_dynamic,omitempty"`
	LNOC           bool `json:"lnoc,omitempty"`
	LNOCU          bool `json:"lnocu,omitempty"`
	// Gateway is set only by a gateway that dialled the route port by
	// mistake; nats-server rejects such a connection.
	Gateway string `json:"gateway,omitempty"`
	// Lang is set only by a client that dialled the route port by mistake
	// (servers never send it); nats-server rejects such a connection.
	Lang string `json:"lang,omitempty"`
}

// AppendRouteConnectLine appends "CONNECT {json}\r\n".
func AppendRouteConnectLine(b []byte, c *RouteConnect) []byte {
	js, err := json.Marshal(c)
	if err != nil {
		// RouteConnect holds only strings and bools.
		panic(fmt.Sprintf("proto: marshal route CONNECT: %v", err))
	}
	b = append(b, "CONNECT "...)
	b = append(b, js...)
	return append(b, '\r', '\n')
}

// ParseRouteConnect decodes a CONNECT argument from a route.
func ParseRouteConnect(arg []byte, c *RouteConnect) error {
	if err := json.Unmarshal(arg, c); err != nil {
		return fmt.Errorf("route CONNECT: %w", err)
	}
	return nil
}
