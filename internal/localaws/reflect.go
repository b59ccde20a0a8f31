package localaws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The kinesisanalyticsv2 state is kept in the SDK's own types (the types
// package only, not the client), so shapes stay exactly the SDK's. These two
// functions move values between those structs and the wire trees: member
// names are the Go field names, as in every awsJson1_1 service whose members
// are PascalCase.

var timeType = reflect.TypeOf(time.Time{})

// toTree converts an SDK struct (or pointer, slice, map) into a tree.
func toTree(v any) any {
	return treeOf(reflect.ValueOf(v))
}

func treeOf(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return treeOf(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time)
		}
		m := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Anonymous {
				continue
			}
			fv := v.Field(i)
			if fv.IsZero() && fv.Kind() != reflect.Slice && fv.Kind() != reflect.Map {
				continue
			}
			if (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.IsNil() {
				continue
			}
			if x := treeOf(fv); x != nil {
				m[f.Name] = x
			}
		}
		return m
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v.Bytes()
		}
		l := make([]any, v.Len())
		for i := range l {
			l[i] = treeOf(v.Index(i))
		}
		return l
	case reflect.Map:
		m := map[string]any{}
		it := v.MapRange()
		for it.Next() {
			m[it.Key().String()] = treeOf(it.Value())
		}
		return m
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return nil
}

// fromTree fills dst (a pointer to an SDK struct) from a decoded JSON tree.
// Field names match case-insensitively; unknown members are an error, as a
// real service rejects them.
func fromTree(src any, dst any) error {
	return fillValue(src, reflect.ValueOf(dst).Elem(), "", true)
}

// fromTreeLenient is fromTree ignoring unknown members and mismatches.
func fromTreeLenient(src any, dst any) {
	_ = fillValue(src, reflect.ValueOf(dst).Elem(), "", false)
}

func fillValue(src any, v reflect.Value, path string, strict bool) error {
	if src == nil {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return fillValue(src, v.Elem(), path, strict)
	case reflect.Struct:
		if v.Type() == timeType {
			t, ok := gt(map[string]any{"t": src}, "t")
			if !ok {
				return fmt.Errorf("%s: expected a timestamp", path)
			}
			v.Set(reflect.ValueOf(t))
			return nil
		}
		m, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected an object", path)
		}
		t := v.Type()
		for k, e := range m {
			f, ok := t.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, k) })
			if !ok || !f.IsExported() {
				if !strict {
					continue
				}
				return fmt.Errorf("%s: unknown member %q", path, k)
			}
			if err := fillValue(e, v.FieldByIndex(f.Index), path+"."+k, strict); err != nil && strict {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			s, ok := src.(string)
			if !ok {
				if b, ok := src.([]byte); ok {
					v.SetBytes(b)
					return nil
				}
				return fmt.Errorf("%s: expected base64 blob", path)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			v.SetBytes(b)
			return nil
		}
		l, ok := src.([]any)
		if !ok {
			return fmt.Errorf("%s: expected a list", path)
		}
		sl := reflect.MakeSlice(v.Type(), len(l), len(l))
		for i, e := range l {
			if err := fillValue(e, sl.Index(i), path+"["+strconv.Itoa(i)+"]", strict); err != nil {
				return err
			}
		}
		v.Set(sl)
		return nil
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected a map", path)
		}
		mv := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, e := range m {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := fillValue(e, ev, path+"."+k, strict); err != nil {
				return err
			}
			mv.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
		}
		v.Set(mv)
		return nil
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return fmt.Errorf("%s: expected a string", path)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := src.(bool)
		if !ok {
			return fmt.Errorf("%s: expected a boolean", path)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := src.(json.Number)
		if !ok {
			return fmt.Errorf("%s: expected a number", path)
		}
		i, err := n.Int64()
		if err != nil || v.OverflowInt(i) {
			return fmt.Errorf("%s: expected an integer", path)
		}
		v.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := src.(json.Number)
		if !ok {
			return fmt.Errorf("%s: expected a number", path)
		}
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("%s: expected a number", path)
		}
		v.SetFloat(f)
		return nil
	case reflect.Interface:
		return nil // unions/documents are not used by the emulated operations
	}
	return fmt.Errorf("%s: unsupported kind %s", path, v.Kind())
}
