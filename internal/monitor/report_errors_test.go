package monitor

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// A report that fails says so with nats-server's code, and whether its
// reply carries "data": null or no "data", as the recordings show.
func TestReportErrors(t *testing.T) {
	m := accountsServer(t)
	tests := []struct {
		recording string // "" when nats-server sends nothing
		kind      string
		account   string
		body      string
		wantCode  int
		wantText  string
	}{
		{"server_ping_connz_bad_json", "CONNZ", "", `{`, 400, "unexpected end of JSON input"},
		{"server_ping_connz_bad_sort", "CONNZ", "", `{"sort":"nope"}`, 500, "invalid sorting option: nope"},
		{"server_ping_accountz_account_missing", "ACCOUNTZ", "", `{"account":"NOPE"}`, 500, "Account NOPE does not exist"},
		{"account_missing_info", "INFO", "NOPE", "", 500, "Account NOPE does not exist"},
		{"account_sys_jsz", "JSZ", "SYS", "", 500, `account "SYS" not jetstream enabled`},
		{"", "STATZ", "NOPE", "", 0, ""},
		{"", "NOPE", "", "", 400, `unknown report "NOPE"`},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.recording, func(t *testing.T) {
			got, err := m.Report(tt.kind, tt.account, []byte(tt.body))
			if got != nil {
				t.Errorf("report %v, want none", got)
			}
			if tt.wantCode == 0 {
				if !errors.Is(err, ErrNoReply) {
					t.Fatalf("err %v, want ErrNoReply", err)
				}
				return
			}
			var re interface {
				error
				StatusCode() int
				NullData() bool
			}
			if !errors.As(err, &re) {
				t.Fatalf("err %v (%T), want one with StatusCode and NullData", err, err)
			}
			if re.StatusCode() != tt.wantCode || re.Error() != tt.wantText {
				t.Errorf("err %d %q, want %d %q", re.StatusCode(), re.Error(), tt.wantCode, tt.wantText)
			}
			if tt.recording == "" {
				return
			}
			_, hasData := recordedMember(t, tt.recording, "data")
			if re.NullData() != hasData {
				t.Errorf("NullData %v, but the recording has data: %v", re.NullData(), hasData)
			}
			rec, _ := recordedMember(t, tt.recording, "error")
			var want struct {
				Code        int    `json:"code"`
				Description string `json:"description"`
			}
			if err := json.Unmarshal(rec, &want); err != nil {
				t.Fatal(err)
			}
			if want.Code != re.StatusCode() || want.Description != re.Error() {
				t.Errorf("recorded error %+v, got %d %q", want, re.StatusCode(), re.Error())
			}
		})
	}
}

func serveHTTP(t *testing.T, m *Server, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.http.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Code, string(b)
}

func TestHTTPAccounts(t *testing.T) {
	m := accountsServer(t)
	tests := []struct {
		path     string
		wantCode int
		check    func(t *testing.T, body string)
	}{
		{"/accountz", 200, func(t *testing.T, body string) {
			var az Accountz
			mustDecode(t, body, &az)
			if strings.Join(az.Accounts, ",") != "$G,A,B,SYS" || az.SystemAccount != "SYS" {
				t.Errorf("accounts %v system %q", az.Accounts, az.SystemAccount)
			}
		}},
		{"/accountz?acc=A", 200, func(t *testing.T, body string) {
			var az Accountz
			mustDecode(t, body, &az)
			d := az.Account
			if d == nil || d.Name != "A" || d.ClientCnt != 1 || len(d.Exports) != 1 || len(d.Imports) != 1 {
				t.Fatalf("detail %+v", d)
			}
			if d.Exports[0] != (ExportInfo{Subject: "a.events.>", Type: "stream"}) {
				t.Errorf("export %+v", d.Exports[0])
			}
			want := ImportInfo{Subject: "b.svc.>", Account: "B", To: "b.svc.>", Type: "service"}
			if d.Imports[0] != want {
				t.Errorf("import %+v, want %+v", d.Imports[0], want)
			}
		}},
		{"/accountz?acc=SYS", 200, func(t *testing.T, body string) {
			var az Accountz
			mustDecode(t, body, &az)
			if az.Account == nil || !az.Account.IsSystem {
				t.Errorf("SYS detail %+v, want is_system", az.Account)
			}
		}},
		{"/accountz?acc=NOPE", 400, func(t *testing.T, body string) {
			if body != "Account NOPE does not exist" {
				t.Errorf("body %q", body)
			}
		}},
		{"/accstatz", 200, func(t *testing.T, body string) {
			var st AccountStatz
			mustDecode(t, body, &st)
			names := []string{}
			for _, a := range st.Accounts {
				names = append(names, a.Account)
			}
			// $G has no connection, so it is left out.
			if strings.Join(names, ",") != "A,B,SYS" {
				t.Errorf("accounts %v", names)
			}
			for _, a := range st.Accounts {
				if a.Account == "A" && (a.Received.Msgs < 2 || a.Sent.Msgs < 1 || a.Conns != 1) {
					t.Errorf("A %+v: want its request and publish received, the reply sent", a)
				}
			}
		}},
		{"/accstatz?accounts=B,$G&unused=1", 200, func(t *testing.T, body string) {
			var st AccountStatz
			mustDecode(t, body, &st)
			if len(st.Accounts) != 2 || st.Accounts[0].Account != "B" || st.Accounts[1].Account != "$G" {
				t.Errorf("accounts %+v", st.Accounts)
			}
		}},
		{"/connz?acc=B&auth=1", 200, func(t *testing.T, body string) {
			var cz Connz
			mustDecode(t, body, &cz)
			if cz.Total != 1 || len(cz.Conns) != 1 || cz.Conns[0].Account != "B" || cz.Conns[0].AuthorizedUser != "b" {
				t.Errorf("connz %+v", cz)
			}
		}},
		{"/connz?acc=A&state=closed", 200, func(t *testing.T, body string) {
			var cz Connz
			mustDecode(t, body, &cz)
			if cz.Total != 1 {
				t.Errorf("closed in A: %d, want 1", cz.Total)
			}
		}},
		{"/connz?sort=nope", 400, func(t *testing.T, body string) {
			if body != "invalid sorting option: nope" {
				t.Errorf("body %q", body)
			}
		}},
		{"/subsz?acc=B&subs=1", 200, func(t *testing.T, body string) {
			var sz Subsz
			mustDecode(t, body, &sz)
			if sz.Total == 0 {
				t.Fatal("no subscriptions listed")
			}
			for _, s := range sz.Subs {
				if s.Account != "B" {
					t.Errorf("subscription %+v outside B", s)
				}
			}
		}},
		{"/metrics", 200, func(t *testing.T, body string) {
			p := expfmt.NewTextParser(model.LegacyValidation)
			fams, err := p.TextToMetricFamilies(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			f := fams["starling_account_connections"]
			if f == nil {
				t.Fatal("no starling_account_connections")
			}
			per := map[string]float64{}
			for _, mm := range f.Metric {
				per[mm.Label[0].GetValue()] = mm.GetGauge().GetValue()
			}
			if per["A"] != 1 || per["B"] != 1 || per["SYS"] != 1 || per["$G"] != 0 {
				t.Errorf("connections per account %v", per)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := serveHTTP(t, m, tt.path)
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", code, tt.wantCode, body)
			}
			tt.check(t, body)
		})
	}
}

func mustDecode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
}
