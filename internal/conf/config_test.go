package conf

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestProductionConfig reads a production-style file with authorization,
// users and permissions, tls, a cluster with routes, jetstream and
// accounts. nats-server's parser produces the same tree for it.
func TestProductionConfig(t *testing.T) {
	root, err := ParseFile(filepath.Join("testdata", "production.conf"))
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, root, m{
		"server_name":        "eu-west-1-a",
		"listen":             "0.0.0.0:4222",
		"http":               int64(8222),
		"max_payload":        int64(8 << 20),
		"max_pending":        int64(64 << 20),
		"max_connections":    int64(64000),
		"ping_interval":      "20s",
		"ping_max":           int64(3),
		"write_deadline":     "10s",
		"lame_duck_duration": "2m",
		"debug":              false,
		"trace":              false,
		"logtime":            true,
		"log_file":           "/var/log/nats/nats.log",
		"APP_PASS":           "s3cr3t-app",
		"MONITOR_PASS":       "monitor!",
		"authorization": m{
			"timeout": 2.5,
			"users": a{
				m{
					"user":     "app",
					"password": "s3cr3t-app",
					"permissions": m{
						"publish":         m{"allow": a{"orders.>", "_INBOX.>"}, "deny": a{"orders.admin.>"}},
						"subscribe":       a{"orders.>", "_INBOX.>"},
						"allow_responses": true,
					},
				},
				m{"user": "monitor", "password": "monitor!", "permissions": m{"publish": a{}, "subscribe": ">"}},
				m{"user": "admin", "password": "$2a$11$W2zko751KUvVy59mUTWmpOdWbpEm7S3bC9ss6QlQmFZ9KXwG6Wwj2"},
			},
		},
		"tls": m{
			"cert_file": "/etc/nats/certs/server.pem",
			"key_file":  "/etc/nats/certs/server-key.pem",
			"ca_file":   "/etc/nats/certs/ca.pem",
			"verify":    true,
			"timeout":   int64(2),
		},
		"cluster": m{
			"name":          "eu-west-1",
			"listen":        "0.0.0.0:6222",
			"authorization": m{"user": "route", "password": "r0ute", "timeout": 0.75},
			"routes": a{
				"nats-route://route:r0ute@10.0.1.10:6222",
				"nats-route://route:r0ute@10.0.1.11:6222",
				"nats-route://route:r0ute@10.0.1.12:6222",
			},
			"no_advertise": true,
		},
		"jetstream": m{
			"store_dir":        "/data/jetstream",
			"max_memory_store": int64(1 << 30),
			"max_file_store":   "512G",
			"domain":           "hub",
		},
		"accounts": m{
			"SYS": m{"users": a{m{"user": "sys", "password": "sys-pass"}}},
			"ORDERS": m{
				"jetstream": "enabled",
				"users":     a{m{"user": "orders", "password": "orders-pass"}},
				"exports": a{
					m{"stream": "orders.events.>"},
					m{"service": "orders.lookup", "response_type": "singleton"},
				},
			},
			"BILLING": m{
				"users": a{m{"user": "billing", "password": "billing-pass"}},
				"imports": a{
					m{"stream": m{"account": "ORDERS", "subject": "orders.events.>"}, "prefix": "billing"},
					m{"service": m{"account": "ORDERS", "subject": "orders.lookup"}, "to": "lookup"},
				},
			},
		},
		"system_account": "SYS",
	})

	// What the options layer will do with it.
	get := func(mp *Map, k string) *Value {
		t.Helper()
		v, ok := mp.Get(k)
		if !ok {
			t.Fatalf("missing %s", k)
		}
		return v
	}
	if d, err := get(root, "ping_interval").Duration(); err != nil || d != 20*time.Second {
		t.Errorf("ping_interval = %v, %v", d, err)
	}
	auth, _ := get(root, "authorization").AsMap()
	if s, err := get(auth, "timeout").Seconds(); err != nil || s != 2.5 {
		t.Errorf("authorization timeout = %v, %v", s, err)
	}
	js, _ := get(root, "jetstream").AsMap()
	if n, err := get(js, "max_file_store").StorageSize(); err != nil || n != 512<<30 {
		t.Errorf("max_file_store = %d, %v", n, err)
	}

	// Keys come back in file order.
	var keys []string
	for _, e := range root.Entries()[:4] {
		keys = append(keys, e.Key)
	}
	if want := []string{"server_name", "listen", "http", "max_payload"}; !slices.Equal(keys, want) {
		t.Errorf("first keys %v, want %v", keys, want)
	}

	// Secrets referenced as variables are marked, so the options layer
	// does not call them unknown options.
	for _, k := range []string{"APP_PASS", "MONITOR_PASS"} {
		if e, _ := root.Entry(k); !e.Referenced {
			t.Errorf("%s not marked as referenced", k)
		}
	}

	// The app user's password points at the $APP_PASS reference.
	users, _ := get(auth, "users").AsArray()
	app, _ := users[0].AsMap()
	if p := get(app, "password").Pos; p.Line != 30 || p.Col != 17 {
		t.Errorf("password at %v, want line 30 col 17", p)
	}
}

func TestJSONStyleConfig(t *testing.T) {
	root, err := ParseFile(filepath.Join("testdata", "json.conf"))
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, root, m{
		"server_name":    "json-node",
		"port":           int64(4223),
		"write_deadline": "3s",
		"cluster": m{
			"name":   "json",
			"port":   int64(6223),
			"routes": a{"nats://10.0.0.1:6223", "nats://10.0.0.2:6223"},
		},
		"jetstream": m{"max_mem": int64(268435456), "enabled": true},
	})
}
