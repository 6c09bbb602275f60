package monitor

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/options"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The expected JSON is what nats-server 2.11 writes for the same cluster
// block (2.9 writes the same without pool_size).
func TestClusterVarz(t *testing.T) {
	listening := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 38349}
	tests := []struct {
		name string
		c    options.ClusterOptions
		cn   string
		addr net.Addr
		want string
	}{
		{
			name: "no cluster",
			c:    options.ClusterOptions{},
			want: `{}`,
		},
		{
			name: "named, routes with credentials shown as host:port",
			c: options.ClusterOptions{
				Name: "demo", Host: "127.0.0.1", Port: 26222,
				AuthTimeout: 2 * time.Second, TLSTimeout: 2 * time.Second, PoolSize: -1,
				Routes: []*url.URL{
					mustURL(t, "nats-route://user:secret@127.0.0.1:26223"),
					mustURL(t, "nats://127.0.0.1:26224"),
				},
			},
			cn:   "demo",
			addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 26222},
			want: `{"name":"demo","addr":"127.0.0.1","cluster_port":26222,"auth_timeout":2,"urls":["127.0.0.1:26223","127.0.0.1:26224"],"tls_timeout":2,"pool_size":-1}`,
		},
		{
			name: "random port shows the port listened on; generated name",
			c: options.ClusterOptions{
				Host: "127.0.0.1", Port: options.RandomPort,
				AuthTimeout: 2 * time.Second, TLSTimeout: 2 * time.Second, PoolSize: -1,
			},
			cn:   "PXOkwUe015Jc13EUK1LKir",
			addr: listening,
			want: `{"name":"PXOkwUe015Jc13EUK1LKir","addr":"127.0.0.1","cluster_port":38349,"auth_timeout":2,"tls_timeout":2,"pool_size":-1}`,
		},
		{
			name: "not listening yet: the configured port",
			c:    options.ClusterOptions{Host: "0.0.0.0", Port: 6222, AuthTimeout: 2 * time.Second, TLSTimeout: 2 * time.Second, PoolSize: -1},
			cn:   "x",
			want: `{"name":"x","addr":"0.0.0.0","cluster_port":6222,"auth_timeout":2,"tls_timeout":2,"pool_size":-1}`,
		},
		{
			name: "TLS: required and verified, fractional timeouts",
			c: options.ClusterOptions{
				Host: "127.0.0.1", Port: 6222, TLSConfig: &tls.Config{},
				AuthTimeout: 2500 * time.Millisecond, TLSTimeout: 1500 * time.Millisecond, PoolSize: -1,
			},
			cn:   "sec",
			want: `{"name":"sec","addr":"127.0.0.1","cluster_port":6222,"auth_timeout":2.5,"tls_timeout":1.5,"tls_required":true,"tls_verify":true,"pool_size":-1}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(clusterVarz(&tt.c, tt.cn, tt.addr))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
