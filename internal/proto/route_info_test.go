package proto

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestRouteInfoCaptures decodes every INFO and CONNECT nats-server sent in
// the recordings and checks that encoding the result gives its bytes back:
// the field names, order and omitempty choices are nats-server's.
func TestRouteInfoCaptures(t *testing.T) {
	infos, connects := 0, 0
	for _, tc := range captures {
		in := readCapture(t, tc.file)
		p := tc.p()
		var c RouteCmd
		for b := in; len(b) > 0; {
			n, err := p.Parse(b, &c)
			if err != nil || n == 0 {
				t.Fatalf("%s: n=%d err=%v", tc.file, n, err)
			}
			switch c.Op {
			case RouteOpInfo:
				infos++
				var info RouteInfo
				if err := ParseRouteInfo(c.Arg, &info); err != nil {
					t.Fatalf("%s: %v", tc.file, err)
				}
				// The first INFO of a connection ends in " \r\n", a gossiped
				// one in "\r\n".
				js, _ := json.Marshal(&info)
				if want := bytes.TrimRight(c.Arg, " "); !bytes.Equal(js, want) {
					t.Errorf("%s: INFO re-encoded\n got %s\nwant %s", tc.file, js, want)
				}
				if info.Nonce != "" {
					if line := AppendRouteInfoLine(nil, &info); !bytes.Equal(line, b[:n]) {
						t.Errorf("%s: INFO line\n got %q\nwant %q", tc.file, line, b[:n])
					}
				}
			case RouteOpConnect:
				connects++
				var conn RouteConnect
				if err := ParseRouteConnect(c.Arg, &conn); err != nil {
					t.Fatalf("%s: %v", tc.file, err)
				}
				if line := AppendRouteConnectLine(nil, &conn); !bytes.Equal(line, b[:n]) {
					t.Errorf("%s: CONNECT line\n got %q\nwant %q", tc.file, line, b[:n])
				}
			}
			b = b[n:]
		}
	}
	if infos != 7 || connects != 3 { // six first INFOs and one gossiped
		t.Errorf("captures hold %d INFO and %d CONNECT", infos, connects)
	}
}

// TestRouteInfoGossip reads the INFO a 2.11 server forwards about a third
// server that joined the cluster.
func TestRouteInfoGossip(t *testing.T) {
	arg := `{"server_id":"NC3E","server_name":"s3","version":"2.11.8","proto":3,"go":"go1.24","host":"127.0.0.1",` +
		`"port":16224,"headers":true,"max_payload":1048576,"ip":"nats-route://127.0.0.1:16224/","cluster":"C",` +
		`"connect_urls":["127.0.0.1:14224"],"compression":"off","lnoc":true,"lnocu":true,"route_pool_size":3,` +
		`"route_account":"A","gossip_mode":1}`
	var info RouteInfo
	if err := ParseRouteInfo([]byte(arg), &info); err != nil {
		t.Fatal(err)
	}
	want := RouteInfo{ServerID: "NC3E", ServerName: "s3", Version: "2.11.8", Proto: RouteProtoMsgTrace, Go: "go1.24",
		Host: "127.0.0.1", Port: 16224, Headers: true, MaxPayload: 1 << 20, IP: RouteURL("127.0.0.1", 16224),
		Cluster: "C", ConnectURLs: []string{"127.0.0.1:14224"}, Compression: CompressionOff, LNOC: true, LNOCU: true,
		RoutePoolSize: 3, RouteAccount: "A", GossipMode: GossipDisabled}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got  %+v\nwant %+v", info, want)
	}
	if err := ParseRouteInfo([]byte(`{"port":"x"}`), &info); err == nil {
		t.Error("bad INFO accepted")
	}
	if err := ParseRouteConnect([]byte(`{`), &RouteConnect{}); err == nil {
		t.Error("bad CONNECT accepted")
	}
}

// TestRouteInfoJSONNames pins every JSON name, in order, to nats-server
// 2.11's INFO (then Starling's own), and the fields that are written even
// when empty.
func TestRouteInfoJSONNames(t *testing.T) {
	perm := &SubjectPermission{Allow: []string{"a"}, Deny: []string{"b"}}
	full := RouteInfo{"id", "n", "v", 3, "gc", "go", "h", 1, true, true, true, true, true, 1, true, "ip", 1, "cip", "nonce",
		"c", true, "d", []string{"u"}, []string{"w"}, true, "off", perm, perm, true, true, true, true, 3, 1, "A", "req", 1,
		"gw", []string{"g"}, "gu", 1, []byte{1}, true, true, []string{"l"}, "ra", "xk", true, []string{"m"}}
	want := "server_id server_name version proto git_commit go host port headers auth_required tls_required " +
		"tls_verify tls_available max_payload jetstream ip client_id client_ip nonce cluster cluster_dynamic domain " +
		"connect_urls ws_connect_urls ldm compression import export lnoc lnocu info_on_connect connect_info " +
		"route_pool_size route_pool_idx route_account route_acc_add_reqid gossip_mode gateway gateway_urls " +
		"gateway_url gateway_cmd gateway_cmd_payload gateway_nrp gateway_iom leafnode_urls remote_account xkey " +
		"starling_jetstream starling_meta"
	if got := jsonKeys(t, &full); got != want {
		t.Errorf("INFO keys\n got %s\nwant %s", got, want)
	}
	js, _ := json.Marshal(&RouteInfo{})
	if got := string(js); got != `{"server_id":"","server_name":"","version":"","proto":0,"go":"","host":"","port":0,"headers":false,"max_payload":0}` {
		t.Errorf("empty INFO: %s", got)
	}
	js, _ = json.Marshal(perm)
	if got := string(js); got != `{"allow":["a"],"deny":["b"]}` {
		t.Errorf("permission: %s", got)
	}

	conn := RouteConnect{true, true, true, "u", "p", true, true, "id", "c", true, true, true, "gw", "go"}
	want = "echo verbose pedantic user pass tls_required headers name cluster cluster_dynamic lnoc lnocu gateway lang"
	if got := jsonKeys(t, &conn); got != want {
		t.Errorf("CONNECT keys\n got %s\nwant %s", got, want)
	}
	if got := string(AppendRouteConnectLine(nil, &RouteConnect{})); got !=
		`CONNECT {"echo":false,"verbose":false,"pedantic":false,"tls_required":false,"headers":false,"name":"","cluster":""}`+"\r\n" {
		t.Errorf("empty CONNECT: %q", got)
	}
}

// jsonKeys lists the top-level keys of v's JSON in order.
func jsonKeys(t *testing.T, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(keys, " ")
}

func TestRouteURL(t *testing.T) {
	for _, tt := range []struct {
		host string
		port int
		want string
	}{
		{"127.0.0.1", 6222, "nats-route://127.0.0.1:6222/"},
		{"::1", 6222, "nats-route://[::1]:6222/"},
		{"srv.example", 16222, "nats-route://srv.example:16222/"},
	} {
		if got := RouteURL(tt.host, tt.port); got != tt.want {
			t.Errorf("RouteURL(%q, %d) = %q, want %q", tt.host, tt.port, got, tt.want)
		}
	}
}
