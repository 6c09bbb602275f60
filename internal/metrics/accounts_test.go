package metrics

import (
	"testing"

	"github.com/starling-mq/starling/internal/core"
)

type fakeAccounts []core.AccountStats

func (f fakeAccounts) AllAccountStats() []core.AccountStats { return f }

func TestAccountMetrics(t *testing.T) {
	src := fakeAccounts{
		{Name: "A", Conns: 2, Subscriptions: 5, InMsgs: 10, InBytes: 100, OutMsgs: 20, OutBytes: 200},
		{Name: "B", Conns: 0, Subscriptions: 1, InMsgs: 3, InBytes: 30},
	}
	fams := scrape(t, handlerFor(newRegistry(NewAccountCollector(src))))
	tests := []struct {
		family  string
		account string
		want    float64
	}{
		{"starling_account_connections", "A", 2},
		{"starling_account_connections", "B", 0},
		{"starling_account_subscriptions", "A", 5},
		{"starling_account_subscriptions", "B", 1},
		{"starling_account_in_messages_total", "A", 10},
		{"starling_account_in_messages_total", "B", 3},
		{"starling_account_in_bytes_total", "A", 100},
		{"starling_account_out_messages_total", "A", 20},
		{"starling_account_out_bytes_total", "A", 200},
		{"starling_account_out_bytes_total", "B", 0},
	}
	for _, tt := range tests {
		t.Run(tt.family+"/"+tt.account, func(t *testing.T) {
			f := fams[tt.family]
			if f == nil {
				t.Fatalf("no family %s", tt.family)
			}
			for _, m := range f.Metric {
				if len(m.Label) != 1 || m.Label[0].GetName() != "account" {
					t.Fatalf("labels %v, want account only", m.Label)
				}
				if m.Label[0].GetValue() != tt.account {
					continue
				}
				got := m.GetGauge().GetValue() + m.GetCounter().GetValue()
				if got != tt.want {
					t.Errorf("%s{account=%q} = %v, want %v", tt.family, tt.account, got, tt.want)
				}
				return
			}
			t.Errorf("%s has no sample for account %q", tt.family, tt.account)
		})
	}
}
