// Package optionstest helps test the conversions between the public
// server.Options and the internal options.Options: Fill sets every field,
// however deep, and Diff names the fields two structs of either type do not
// agree on. A field added to one type and not the other, or forgotten by a
// conversion, fails the test that uses them.
package optionstest

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"time"
)

// Fill sets every exported field of the struct p points to, recursively,
// to a non-zero value: strings to their field name, numbers and durations
// to distinct counts, booleans to true, pointers and slices to one filled
// element.
func Fill(p any) {
	n := 0
	fill(reflect.ValueOf(p).Elem(), "", &n)
}

var (
	tlsType    = reflect.TypeFor[*tls.Config]()
	loggerType = reflect.TypeFor[*slog.Logger]()
)

func fill(v reflect.Value, name string, n *int) {
	*n++
	switch {
	case v.Type() == tlsType:
		v.Set(reflect.ValueOf(&tls.Config{ServerName: name}))
		return
	case v.Type() == loggerType:
		v.Set(reflect.ValueOf(slog.New(slog.DiscardHandler)))
		return
	case v.Type() == reflect.TypeFor[time.Duration]():
		v.SetInt(int64(*n) * int64(time.Second))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), name, n)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(v.Field(i), f.Name, n)
			}
		}
	default:
		panic(fmt.Sprintf("optionstest: cannot fill %s (%s)", name, v.Type()))
	}
}

// Diff compares the structs a and b point to field by field, by name:
// fields of the same type must be equal (pointers to tls.Config and
// slog.Logger the same pointer), fields of the public and internal
// user and permission types must marshal to the same JSON. It returns one
// line per disagreement, including fields only one side has.
func Diff(a, b any) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for i := range va.NumField() {
		f := va.Type().Field(i)
		fb := vb.FieldByName(f.Name)
		if !fb.IsValid() {
			out = append(out, fmt.Sprintf("%s: only in %s", f.Name, va.Type()))
			continue
		}
		if !same(va.Field(i), fb) {
			out = append(out, fmt.Sprintf("%s: %s differs from %s", f.Name, show(va.Field(i)), show(fb)))
		}
	}
	for i := range vb.NumField() {
		if name := vb.Type().Field(i).Name; !va.FieldByName(name).IsValid() {
			out = append(out, fmt.Sprintf("%s: only in %s", name, vb.Type()))
		}
	}
	return out
}

func same(a, b reflect.Value) bool {
	if a.Type() == b.Type() && a.Type().Comparable() {
		return a.Equal(b)
	}
	ja, errA := json.Marshal(a.Interface())
	jb, errB := json.Marshal(b.Interface())
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func show(v reflect.Value) string {
	if j, err := json.Marshal(v.Interface()); err == nil {
		return string(j)
	}
	return fmt.Sprint(v.Interface())
}
