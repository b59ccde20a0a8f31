package template

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-facts", false, "rewrite testdata/facts.golden")

// dump writes v with every field (unexported ones too), pointers followed
// and map keys sorted, so that two models compare as text.
func dump(sb *strings.Builder, v reflect.Value, indent string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			sb.WriteString("nil")
			return
		}
		dump(sb, v.Elem(), indent)
	case reflect.Struct:
		sb.WriteString(v.Type().Name() + "{\n")
		for i := 0; i < v.NumField(); i++ {
			sb.WriteString(indent + "  " + v.Type().Field(i).Name + ": ")
			dump(sb, v.Field(i), indent+"  ")
			sb.WriteString("\n")
		}
		sb.WriteString(indent + "}")
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			sb.WriteString("nil")
			return
		}
		sb.WriteString("[\n")
		for i := 0; i < v.Len(); i++ {
			sb.WriteString(indent + "  ")
			dump(sb, v.Index(i), indent+"  ")
			sb.WriteString("\n")
		}
		sb.WriteString(indent + "]")
	case reflect.Map:
		if v.IsNil() {
			sb.WriteString("nil")
			return
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		sb.WriteString("map[\n")
		for _, k := range keys {
			sb.WriteString(indent + "  " + fmt.Sprintf("%q", fmt.Sprint(k)) + ": ")
			dump(sb, v.MapIndex(k), indent+"  ")
			sb.WriteString("\n")
		}
		sb.WriteString(indent + "]")
	case reflect.String:
		fmt.Fprintf(sb, "%q", v.String())
	default:
		fmt.Fprintf(sb, "%v", v)
	}
}

// TestFactsUnchanged pins every fact of the test templates, and of
// applications sharing a role and a security group, to what Parse gave
// before the role and security group users were built once per template
// (testdata/facts.golden was written by the earlier per-application code).
func TestFactsUnchanged(t *testing.T) {
	inputs := map[string][]byte{
		"shared-3.json":       manyApplications(3, false),
		"shared-3-extra.json": manyApplications(3, true),
	}
	for _, f := range []string{"compliant.yaml", "noncompliant.json", "unresolved.yaml", "unresolved-if.yaml", "unresolved-if-related.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = data
	}
	names := make([]string, 0, len(inputs))
	for n := range inputs {
		names = append(names, n)
	}
	slices.Sort(names)
	var sb strings.Builder
	for _, n := range names {
		apps, err := Parse(n, inputs[n])
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		sb.WriteString("== " + n + "\n")
		for _, a := range apps {
			dump(&sb, reflect.ValueOf(a), "")
			sb.WriteString("\n")
		}
	}
	golden := filepath.Join("testdata", "facts.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := sb.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("facts differ from testdata/facts.golden at line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("facts differ from testdata/facts.golden: %d lines, want %d", len(gl), len(wl))
	}
}

// TestSharedRoleUsers: two applications of one role see the same users,
// both of them, and each sees the other (not itself) among the group's users.
func TestSharedRoleUsers(t *testing.T) {
	apps, err := Parse("shared.json", manyApplications(2, true))
	if err != nil || len(apps) != 2 {
		t.Fatalf("%d applications, %v", len(apps), err)
	}
	for i, a := range apps {
		users := known(t, "RoleUsers", a.Related.RoleUsers)
		if !slices.Equal(users, []string{"app-0", "app-1"}) {
			t.Errorf("%s: role users %v", a.Name, users)
		}
		sg := known(t, "sg", a.Related.SecurityGroups["sg-AppSG"])
		other := fmt.Sprintf("App%d", 1-i)
		if got := known(t, "OtherUsers", sg.OtherUsers); !slices.Equal(got, []string{other, "Bastion"}) && !slices.Equal(got, []string{"Bastion", other}) {
			t.Errorf("%s: other users %v", a.Name, got)
		}
	}
	own := known(t, "sg", apps[0].Related.SecurityGroups["sg-OwnSG"])
	if u := known(t, "OtherUsers", own.OtherUsers); len(u) != 0 || len(own.Ingress) != 1 {
		t.Errorf("own group %+v", own)
	}
}
