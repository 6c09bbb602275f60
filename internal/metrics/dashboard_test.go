package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

const dashboardPath = "../../docs/grafana-dashboard.json"

// metricRef finds metric names in PromQL. Everything the dashboard may query
// carries one of these prefixes; an expression that names none of them is
// reported, so a metric outside the prefixes cannot slip past the check.
var metricRef = regexp.MustCompile(`\b(?:starling|go|process)_[a-zA-Z0-9_]*[a-zA-Z0-9]`)

// dashboard is the part of Grafana's model the test inspects.
type dashboard struct {
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	SchemaVersion int     `json:"schemaVersion"`
	UID           string  `json:"uid"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr       string `json:"expr"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardPath, err)
	}
	return d
}

const dsVar = "${DS_PROMETHEUS}"

// TestDashboardShape checks what makes the file importable and coherent: the
// datasource input every panel uses, the server variable, unique panel ids.
func TestDashboardShape(t *testing.T) {
	d := loadDashboard(t)
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want one Prometheus DS_PROMETHEUS", d.Inputs)
	}
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d, want about 39", d.SchemaVersion)
	}
	if d.UID == "" {
		t.Error("no uid: re-imports would create duplicates")
	}
	var server bool
	for _, v := range d.Templating.List {
		if v.Name == "server" {
			server = v.Datasource.UID == dsVar && strings.Contains(v.Definition, "label_values(")
		}
	}
	if !server {
		t.Errorf("no server variable from label_values on %s: %+v", dsVar, d.Templating.List)
	}
	ids := map[int]string{}
	for _, p := range d.Panels {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != dsVar {
			t.Errorf("panel %q does not use %s", p.Title, dsVar)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource.UID != dsVar {
				t.Errorf("panel %q: a target does not use %s", p.Title, dsVar)
			}
			if !strings.Contains(tg.Expr, `server_name=~"$server"`) {
				t.Errorf("panel %q ignores the server variable: %s", p.Title, tg.Expr)
			}
		}
	}
}

// TestDashboardMetricsExist checks every metric the dashboard queries is one
// that NewHandler serves, so renaming a metric breaks this test rather than a
// panel.
func TestDashboardMetricsExist(t *testing.T) {
	d := loadDashboard(t)
	served := scrape(t, NewHandler(newFake()))
	exists := func(name string) bool {
		if _, ok := served[name]; ok {
			return true
		}
		// Summaries and histograms are exposed as one family with suffixed series.
		for _, suffix := range []string{"_sum", "_count", "_bucket"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && served[base] != nil {
				return true
			}
		}
		return false
	}
	queries := 0
	check := func(where, expr string) {
		queries++
		names := metricRef.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: no recognised metric in %q", where, expr)
		}
		for _, name := range names {
			if !exists(name) {
				t.Errorf("%s: %s is not served", where, name)
			}
		}
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		check("variable "+v.Name, v.Definition)
	}
	if queries < 10 {
		t.Errorf("only %d queries found: is the dashboard being read?", queries)
	}
}
