package monitor

import (
	"fmt"
	"html"
	"net/http"

	"github.com/starling-mq/starling/internal/core"
)

var rootLinks = []struct{ path, title string }{
	{"varz", "General"},
	{"connz", "Connections"},
	{"subsz", "Subscriptions"},
	{"accountz", "Accounts"},
	{"routez", "Routes"},
	{"jsz", "JetStream"},
	{"metrics", "Prometheus metrics"},
	{"healthz", "Health Probe"},
}

func (m *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	m.count("/")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<html lang=\"en\">\n<head><title>Starling</title></head>\n<body>\n<h1>Starling</h1>\n<p>v%s (NATS %s)</p>\n",
		html.EscapeString(core.Version), html.EscapeString(core.ProtocolVersion))
	for _, l := range rootLinks {
		fmt.Fprintf(w, "<a href=./%s>%s</a><br/>\n", l.path, l.title)
	}
	fmt.Fprint(w, "</body>\n</html>\n")
}
