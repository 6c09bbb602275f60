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
	"net/url"
	"reflect"
	"slices"
	"time"
)

// Fill sets every exported field of the struct p points to, recursively,
// to a non-zero value: strings to their field name, numbers and durations
// to distinct counts, booleans to true, pointers and slices to one filled
// element, URLs to one with a user and password.
func Fill(p any) {
	n := 0
	fill(reflect.ValueOf(p).Elem(), "", &n)
}

var (
	tlsType    = reflect.TypeFor[*tls.Config]()
	loggerType = reflect.TypeFor[*slog.Logger]()
	urlType    = reflect.TypeFor[*url.URL]()
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
	case v.Type() == urlType:
		v.Set(reflect.ValueOf(&url.URL{Scheme: "nats-route", User: url.UserPassword(name, name+"-password"),
			Host: fmt.Sprintf("%s:%d", name, *n)}))
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
// slog.Logger the same pointer, URLs the same text), struct fields of two
// types (the public and internal cluster options) are compared field by
// field in turn, and fields of the public and internal user and
// permission types must marshal to the same JSON. It returns one line per
// disagreement, including fields only one side has.
func Diff(a, b any) []string {
	return diff(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), "")
}

func diff(va, vb reflect.Value, prefix string) []string {
	var out []string
	for i := range va.NumField() {
		f := va.Type().Field(i)
		fa, fb := va.Field(i), vb.FieldByName(f.Name)
		name := prefix + f.Name
		switch {
		case !fb.IsValid():
			out = append(out, fmt.Sprintf("%s: only in %s", name, va.Type()))
		case fa.Kind() == reflect.Struct && fb.Kind() == reflect.Struct && fa.Type() != fb.Type():
			out = append(out, diff(fa, fb, name+".")...)
		case !same(fa, fb):
			out = append(out, fmt.Sprintf("%s: %s differs from %s", name, show(fa), show(fb)))
		}
	}
	for i := range vb.NumField() {
		if name := vb.Type().Field(i).Name; !va.FieldByName(name).IsValid() {
			out = append(out, fmt.Sprintf("%s: only in %s", prefix+name, vb.Type()))
		}
	}
	return out
}

func same(a, b reflect.Value) bool {
	if a.Type() == b.Type() && a.Type().Comparable() {
		return a.Equal(b)
	}
	if a.Type() == b.Type() && a.Type() == reflect.TypeFor[[]*url.URL]() {
		// JSON would drop the password (url.Userinfo has no exported
		// fields); the text keeps it.
		return slices.EqualFunc(a.Interface().([]*url.URL), b.Interface().([]*url.URL),
			func(x, y *url.URL) bool { return x.String() == y.String() })
	}
	ja, errA := json.Marshal(a.Interface())
	jb, errB := json.Marshal(b.Interface())
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func show(v reflect.Value) string {
	if urls, ok := v.Interface().([]*url.URL); ok {
		return fmt.Sprint(urls)
	}
	if j, err := json.Marshal(v.Interface()); err == nil {
		return string(j)
	}
	return fmt.Sprint(v.Interface())
}
