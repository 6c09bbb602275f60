package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// monitorClient bounds every monitoring request: a stopped server never
// answers, and a wait must not hang on it. Connections are not kept: a
// poll every few milliseconds is cheap on loopback, and no idle
// connection outlives a cluster.
var monitorClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// fetchRoutez reads /routez from the monitoring endpoint at base.
func fetchRoutez(base string, subs bool) (*Routez, error) {
	u := base + "/routez"
	if subs {
		u += "?subs=1"
	}
	resp, err := monitorClient.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var v Routez
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return &v, nil
}
