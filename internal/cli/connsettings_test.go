package cli

import (
	"strings"
	"testing"
)

func TestMergeLayersPrecedence(t *testing.T) {
	ctx := connLayer{url: "nats://ctx:1", user: "cu", password: "cp", ca: "ctx-ca.pem", cert: "ctx.pem", key: "ctx.key", jsDomain: "hub", inboxPrefix: "_I.ctx"}
	env := connLayer{url: "nats://env:1", creds: "env.creds"}
	flags := connLayer{ca: "flag-ca.pem", cert: "flag.pem"}
	tests := []struct {
		name   string
		layers []connLayer
		want   connLayer
	}{
		{"context only", []connLayer{ctx}, ctx},
		{
			"env replaces the context's credentials whole and its url",
			[]connLayer{ctx, env},
			connLayer{url: "nats://env:1", creds: "env.creds", ca: "ctx-ca.pem", cert: "ctx.pem", key: "ctx.key", jsDomain: "hub", inboxPrefix: "_I.ctx"},
		},
		{
			"a flag certificate replaces the pair, so the context's key is not paired with it",
			[]connLayer{ctx, env, flags},
			connLayer{url: "nats://env:1", creds: "env.creds", ca: "flag-ca.pem", cert: "flag.pem", jsDomain: "hub", inboxPrefix: "_I.ctx"},
		},
		{"token flag over user context", []connLayer{ctx, {token: "t"}}, connLayer{url: "nats://ctx:1", token: "t", ca: "ctx-ca.pem", cert: "ctx.pem", key: "ctx.key", jsDomain: "hub", inboxPrefix: "_I.ctx"}},
		{"tls first from any layer", []connLayer{{tlsFirst: true}, {}}, connLayer{tlsFirst: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mergeLayers(tc.layers...); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestFinishSettings(t *testing.T) {
	tests := []struct {
		in      connLayer
		want    connLayer
		wantErr string
	}{
		{connLayer{}, connLayer{url: defaultURL}, ""},
		{connLayer{user: "u", password: "p"}, connLayer{url: defaultURL, user: "u", password: "p"}, ""},
		// A user alone is a token, as the nats CLI sends it.
		{connLayer{user: "s3cret"}, connLayer{url: defaultURL, token: "s3cret"}, ""},
		{connLayer{user: "u", creds: "c"}, connLayer{}, "more than one way to authenticate (user, creds)"},
		{connLayer{token: "t", nkey: "n", jwt: "j"}, connLayer{}, "(token, nkey, jwt)"},
		{connLayer{password: "p"}, connLayer{}, "a password needs a user"},
		{connLayer{seed: "S"}, connLayer{}, "give --jwt too"},
		{connLayer{cert: "c"}, connLayer{}, "needs its private key"},
		{connLayer{key: "k"}, connLayer{}, "needs its certificate"},
		{connLayer{jsDomain: "d", jsAPIPrefix: "p"}, connLayer{}, "not both"},
		{connLayer{jwt: "j"}, connLayer{url: defaultURL, jwt: "j"}, ""},
	}
	for _, tc := range tests {
		got, err := tc.in.finish()
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: err %v, want %q", tc.in, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%+v: %v", tc.in, err)
		case got != tc.want:
			t.Errorf("%+v: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestContextChoice(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NATS_CONTEXT" {
				return v
			}
			return ""
		}
	}
	sel := func() string { return "picked" }
	none := func() string { return "" }
	tests := []struct {
		flag      string
		noContext bool
		getenv    func(string) string
		selected  func() string
		name, src string
	}{
		{"", false, env(""), none, "", ""},
		{"", false, env(""), sel, "picked", "selected"},
		{"", false, env("fromenv"), sel, "fromenv", "NATS_CONTEXT"},
		{"flag", false, env("fromenv"), sel, "flag", "--context"},
		{"flag", true, env("fromenv"), sel, "", ""},
	}
	for _, tc := range tests {
		name, src := contextChoice(tc.flag, tc.noContext, tc.getenv, tc.selected)
		if name != tc.name || src != tc.src {
			t.Errorf("contextChoice(%q, %v) = %q, %q; want %q, %q", tc.flag, tc.noContext, name, src, tc.name, tc.src)
		}
	}
}

func TestEnvLayerAndContextLayerRefusals(t *testing.T) {
	vars := map[string]string{"NATS_URL": "nats://e:1", "NATS_USER": "u", "NATS_PASSWORD": "p", "NATS_CA": "ca.pem", "NATS_JWT": "j"}
	l, err := envLayer(func(k string) string { return vars[k] })
	if err != nil || l.url != "nats://e:1" || l.user != "u" || l.password != "p" || l.ca != "ca.pem" || l.jwt != "j" {
		t.Errorf("envLayer = %+v, %v", l, err)
	}
	vars["NATS_SOCKS_PROXY"] = "socks5://p:1080"
	if _, err := envLayer(func(k string) string { return vars[k] }); err == nil || !strings.Contains(err.Error(), "SOCKS") {
		t.Errorf("NATS_SOCKS_PROXY: %v", err)
	}
	for _, c := range []*natsContext{{SocksProxy: "socks5://x"}, {NSCLookup: "nsc://o/a/u"}, {WinCertStoreType: "user"}} {
		if _, err := contextLayer("c", c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	got, err := contextLayer("c", &natsContext{URL: "u", Creds: "c", JSAPIPrefix: "p", TLSFirst: true, ColorScheme: "blue", Description: "d"})
	if err != nil || got != (connLayer{url: "u", creds: "c", jsAPIPrefix: "p", tlsFirst: true}) {
		t.Errorf("contextLayer = %+v, %v", got, err)
	}
}

func TestEnvTimeout(t *testing.T) {
	for v, want := range map[string]string{"": "", "2s": "", "x": "not a positive duration", "-1s": "not a positive duration"} {
		_, err := envTimeout(func(string) string { return v })
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("NATS_TIMEOUT=%q: %v", v, err)
		}
	}
}
