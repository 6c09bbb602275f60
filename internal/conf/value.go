package conf

import (
	"time"
)

// Kind is the type of a parsed Value.
type Kind uint8

const (
	KindString Kind = iota + 1
	KindInt         // int64; unit suffixes (1K, 64MB) are already applied
	KindFloat       // float64
	KindBool        // true/false, yes/no, on/off
	KindTime        // an unquoted Zulu datetime, 2006-01-02T15:04:05Z
	KindMap         // *Map
	KindArray       // []*Value
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt:
		return "integer"
	case KindFloat:
		return "float"
	case KindBool:
		return "boolean"
	case KindTime:
		return "datetime"
	case KindMap:
		return "map"
	case KindArray:
		return "array"
	}
	return "invalid"
}

// Value is one parsed configuration value and where it was written. A value
// reached through a $variable carries the position of the reference, since
// that is where an operator has to look when the options layer rejects it.
//
// Values are shared between a variable's definition and its uses, so a
// parsed tree must be treated as read-only.
type Value struct {
	Kind Kind
	Pos  Pos

	str string
	num int64
	flt float64
	bln bool
	tim time.Time
	mp  *Map
	arr []*Value
}

// AsString returns the value of a String, or a positioned error.
func (v *Value) AsString() (string, error) {
	if v.Kind != KindString {
		return "", v.typeError(KindString)
	}
	return v.str, nil
}

// AsInt returns the value of an Int, or a positioned error.
func (v *Value) AsInt() (int64, error) {
	if v.Kind != KindInt {
		return 0, v.typeError(KindInt)
	}
	return v.num, nil
}

// AsFloat returns the value of a Float, or a positioned error. An Int is
// not converted: nats-server decides per option whether it takes both.
func (v *Value) AsFloat() (float64, error) {
	if v.Kind != KindFloat {
		return 0, v.typeError(KindFloat)
	}
	return v.flt, nil
}

// AsBool returns the value of a Bool, or a positioned error.
func (v *Value) AsBool() (bool, error) {
	if v.Kind != KindBool {
		return false, v.typeError(KindBool)
	}
	return v.bln, nil
}

// AsTime returns the value of a Time, or a positioned error.
func (v *Value) AsTime() (time.Time, error) {
	if v.Kind != KindTime {
		return time.Time{}, v.typeError(KindTime)
	}
	return v.tim, nil
}

// AsMap returns the value of a Map, or a positioned error.
func (v *Value) AsMap() (*Map, error) {
	if v.Kind != KindMap {
		return nil, v.typeError(KindMap)
	}
	return v.mp, nil
}

// AsArray returns the elements of an Array, or a positioned error. The
// slice is shared with the tree and must not be modified.
func (v *Value) AsArray() ([]*Value, error) {
	if v.Kind != KindArray {
		return nil, v.typeError(KindArray)
	}
	return v.arr, nil
}

func (v *Value) typeError(want Kind) *Error {
	return v.Pos.Errorf("expected %s, got %s", want, v.Kind)
}

// Interface converts the value to plain Go types, the same shapes
// nats-server's conf.Parse returns: string, int64, float64, bool, time.Time,
// map[string]any and []any. It is meant for tests, debugging and digests;
// positions and key order are lost.
func (v *Value) Interface() any {
	switch v.Kind {
	case KindString:
		return v.str
	case KindInt:
		return v.num
	case KindFloat:
		return v.flt
	case KindBool:
		return v.bln
	case KindTime:
		return v.tim
	case KindMap:
		return v.mp.Interface()
	case KindArray:
		out := make([]any, len(v.arr))
		for i, e := range v.arr {
			out[i] = e.Interface()
		}
		return out
	}
	return nil
}

// at returns a copy of v positioned at p, used when a $variable is resolved.
func (v *Value) at(p Pos) *Value {
	c := *v
	c.Pos = p
	return &c
}
