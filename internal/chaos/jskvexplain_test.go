package chaos_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/histcheck"
)

// explainKV narrows a history that is not linearizable to the key whose
// operations are not, and to the shortest prefix (in call order) of that
// key's operations that is not either; it returns the last operations of
// that prefix, where the violation shows. "" when no single key's
// history fails within the time given.
func explainKV(ops []histcheck.KVOp, limit time.Duration) string {
	byKey := map[string][]histcheck.KVOp{}
	for _, op := range ops {
		byKey[op.Key] = append(byKey[op.Key], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h := slices.Clone(byKey[k])
		sort.Slice(h, func(a, b int) bool { return h[a].Call.Before(h[b].Call) })
		if r := histcheck.CheckKV(h, limit); r.Linearizable || r.Unknown {
			continue
		}
		// The shortest failing prefix: a prefix that fails stays failing
		// as operations are added, so a binary search finds it.
		lo, hi := 1, len(h)
		for lo < hi {
			mid := (lo + hi) / 2
			if r := histcheck.CheckKV(h[:mid], limit); !r.Linearizable && !r.Unknown {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "key %q fails at its operation %d of %d; the last ones:", k, lo, len(h))
		t0 := h[0].Call
		for _, op := range h[max(0, lo-12):lo] {
			fmt.Fprintf(&b, "\n  c%d %s [%v, %v] value %q expect %d known %v ok %v rev %d got %q",
				op.Client, kindName(op.Kind), op.Call.Sub(t0).Round(time.Millisecond), op.Return.Sub(t0).Round(time.Millisecond),
				op.Value, op.Expect, op.Known, op.OK, op.Rev, op.Got)
		}
		return b.String()
	}
	return ""
}

func kindName(k histcheck.KVKind) string {
	switch k {
	case histcheck.KVPut:
		return "put"
	case histcheck.KVGet:
		return "get"
	case histcheck.KVUpdate:
		return "update"
	}
	return fmt.Sprint(k)
}
