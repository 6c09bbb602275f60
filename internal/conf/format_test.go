package conf

import (
	"strconv"
	"strings"
)

// format writes a parsed tree back as config text, so the fuzz target can
// check that parsing what it printed gives the same tree. It reports false
// for a tree it cannot write: a key containing both kinds of quote (keys
// have no escapes).
func format(root *Map) (string, bool) {
	var b strings.Builder
	ok := formatEntries(&b, root)
	return b.String(), ok
}

func formatEntries(b *strings.Builder, mp *Map) bool {
	for _, e := range mp.entries {
		switch {
		case !strings.Contains(e.Key, `"`):
			b.WriteString(`"` + e.Key + `"`)
		case !strings.Contains(e.Key, `'`):
			b.WriteString(`'` + e.Key + `'`)
		default:
			return false
		}
		b.WriteString(" = ")
		if !formatValue(b, e.Value) {
			return false
		}
		b.WriteString("\n")
	}
	return true
}

func formatValue(b *strings.Builder, v *Value) bool {
	switch v.Kind {
	case KindString:
		formatString(b, v.str)
	case KindInt:
		b.WriteString(strconv.FormatInt(v.num, 10))
	case KindFloat:
		s := strconv.FormatFloat(v.flt, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		b.WriteString(s)
	case KindBool:
		b.WriteString(strconv.FormatBool(v.bln))
	case KindTime:
		b.WriteString(v.tim.Format("2006-01-02T15:04:05Z"))
	case KindMap:
		b.WriteString("{\n")
		if !formatEntries(b, v.mp) {
			return false
		}
		b.WriteString("}")
	case KindArray:
		b.WriteString("[\n")
		for _, e := range v.arr {
			if !formatValue(b, e) {
				return false
			}
			b.WriteString(",\n")
		}
		b.WriteString("]")
	}
	return true
}

// formatString writes s double-quoted, escaping what the reader would
// otherwise take specially, and control bytes (a NUL may come from \x00).
func formatString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// nodes counts the values in a tree, stopping once it passes limit.
// Variables share subtrees, so a small file can describe a tree far too
// large to print.
func nodes(mp *Map, limit int) int {
	n := 0
	var walk func(v *Value)
	walk = func(v *Value) {
		if n > limit {
			return
		}
		n++
		switch v.Kind {
		case KindMap:
			for _, e := range v.mp.entries {
				walk(e.Value)
			}
		case KindArray:
			for _, e := range v.arr {
				walk(e)
			}
		}
	}
	for _, e := range mp.entries {
		walk(e.Value)
	}
	return n
}
