package monitor

import (
	"net"

	"github.com/starling-mq/starling/internal/options"
)

// ClusterOptsVarz is /varz's "cluster": nats-server 2.11's fields, names,
// order and omitempty choices, so that without clustering it is "{}" as
// nats-server writes it. nats-server 2.9 has the same fields but pool_size.
type ClusterOptsVarz struct {
	Name        string   `json:"name,omitempty"`
	Host        string   `json:"addr,omitempty"`
	Port        int      `json:"cluster_port,omitempty"`
	AuthTimeout float64  `json:"auth_timeout,omitempty"`
	URLs        []string `json:"urls,omitempty"`
	TLSTimeout  float64  `json:"tls_timeout,omitempty"`
	TLSRequired bool     `json:"tls_required,omitempty"`
	TLSVerify   bool     `json:"tls_verify,omitempty"`
	PoolSize    int      `json:"pool_size,omitempty"`
}

// clusterVarz describes the cluster options c of a server whose cluster
// name is name and whose route listener is addr (nil before it listens).
// The port is the one listened on, so a random port (-1) shows as chosen.
// URLs are the explicit routes as host:port: a URL's credentials never
// appear, as in nats-server.
func clusterVarz(c *options.ClusterOptions, name string, addr net.Addr) ClusterOptsVarz {
	if !c.Enabled() {
		return ClusterOptsVarz{}
	}
	v := ClusterOptsVarz{
		Name:        name,
		Host:        c.Host,
		Port:        c.Port,
		AuthTimeout: c.AuthTimeout.Seconds(),
		TLSTimeout:  c.TLSTimeout.Seconds(),
		TLSRequired: c.TLSConfig != nil,
		TLSVerify:   c.TLSConfig != nil, // peers always present verified certificates
		PoolSize:    c.PoolSize,
	}
	if a, ok := addr.(*net.TCPAddr); ok {
		v.Port = a.Port
	}
	for _, u := range c.Routes {
		v.URLs = append(v.URLs, u.Host)
	}
	return v
}
