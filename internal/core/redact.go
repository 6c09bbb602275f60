package core

import (
	"encoding/json"
)

// redactConnect returns a CONNECT argument for logs with credentials masked.
// Unparsable input is not echoed at all, since it may hold a secret.
func redactConnect(arg []byte) string {
	var m map[string]any
	if err := json.Unmarshal(arg, &m); err != nil {
		return "[unparsable CONNECT]"
	}
	for _, k := range []string{"pass", "auth_token", "sig", "jwt", "nkey"} {
		if _, ok := m[k]; ok {
			m[k] = "[REDACTED]"
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "[unprintable CONNECT]"
	}
	return string(b)
}
