package template

import (
	"reflect"
	"strings"
)

func reflectValueOf(v any) reflect.Value { return reflect.ValueOf(v) }

func dumpValue(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	if strings.HasPrefix(t.Name(), "Fact[") {
		if v.MethodByName("Known").Call(nil)[0].Bool() {
			return dumpValue(v.MethodByName("Value").Call(nil)[0])
		}
		return "UNKNOWN: " + v.MethodByName("Reason").Call(nil)[0].String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return dumpValue(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).IsExported() {
				m[t.Field(i).Name] = dumpValue(v.Field(i))
			}
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, dumpValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = dumpValue(v.MapIndex(k))
		}
		return m
	}
	return v.Interface()
}
