package rules

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParamType says how a parameter's flat string is read.
type ParamType string

// Parameter types. Values are always flat strings, as the Config console and
// conformance packs write them.
const (
	TypeString ParamType = "string"
	TypeInt    ParamType = "int"
	TypeList   ParamType = "list"  // comma-separated
	TypeDates  ParamType = "dates" // comma-separated NAME=YYYY-MM-DD (or NAME alone: always)
)

// Param is a rule parameter with its default.
type Param struct {
	Name        string
	Type        ParamType
	Default     string
	Description string
	// Allowed, when set, lists the values (or list items) accepted.
	Allowed []string
}

// Params are a rule's parameter values: overrides over defaults, validated
// when built, so checks read them without error handling.
type Params struct {
	rule   *Rule
	values map[string]string
}

// NewParams validates overrides for r. Unknown names and malformed values are
// errors that name the rule and parameter: nothing is silently defaulted.
func NewParams(r *Rule, overrides map[string]string) (Params, error) {
	p := Params{rule: r}
	for name, v := range overrides {
		if name == "ruleId" {
			continue
		}
		def := r.param(name)
		if def == nil {
			return Params{}, fmt.Errorf("%s: unknown parameter %q (known: %s)", r.ID, name, r.paramNames())
		}
		if err := def.validate(v); err != nil {
			return Params{}, fmt.Errorf("%s: parameter %s: %w", r.ID, name, err)
		}
		if p.values == nil {
			p.values = make(map[string]string, len(overrides))
		}
		p.values[name] = v
	}
	return p, nil
}

func (r *Rule) param(name string) *Param {
	for i := range r.Params {
		if r.Params[i].Name == name {
			return &r.Params[i]
		}
	}
	return nil
}

func (r *Rule) paramNames() string {
	if len(r.Params) == 0 {
		return "none"
	}
	n := make([]string, len(r.Params))
	for i, p := range r.Params {
		n[i] = p.Name
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

func (p *Param) validate(v string) error {
	switch p.Type {
	case TypeInt:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number >= 0", v)
		}
		if len(p.Allowed) > 0 && !slices.Contains(p.Allowed, strconv.Itoa(n)) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(p.Allowed, ", "))
		}
	case TypeDates:
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if _, d, ok := strings.Cut(item, "="); ok {
				if _, err := time.Parse(time.DateOnly, strings.TrimSpace(d)); err != nil {
					return fmt.Errorf("%q: date must be YYYY-MM-DD", item)
				}
			}
		}
	case TypeList, TypeString:
		if len(p.Allowed) == 0 {
			return nil
		}
		items := []string{v}
		if p.Type == TypeList {
			items = strings.Split(v, ",")
		}
		for _, it := range items {
			it = strings.TrimSpace(it)
			if it == "" {
				continue
			}
			ok := false
			for _, a := range p.Allowed {
				ok = ok || strings.EqualFold(a, it)
			}
			if !ok {
				return fmt.Errorf("%q is not one of %s", it, strings.Join(p.Allowed, ", "))
			}
		}
	}
	return nil
}

// String returns a parameter's value.
func (p Params) String(name string) string {
	if v, ok := p.values[name]; ok {
		return strings.TrimSpace(v)
	}
	if p.rule != nil {
		if d := p.rule.param(name); d != nil {
			return d.Default
		}
	}
	return ""
}

// Int returns an int parameter (validated when the Params were built).
func (p Params) Int(name string) int {
	n, _ := strconv.Atoi(p.String(name))
	return n
}

// ListHas reports whether a list parameter contains v (case-insensitive),
// without allocating.
func (p Params) ListHas(name, v string) bool {
	for item := range strings.SplitSeq(p.String(name), ",") {
		if strings.EqualFold(strings.TrimSpace(item), v) {
			return true
		}
	}
	return false
}

// Date looks key up in a dates parameter. found is false when the key is not
// listed; a key listed without a date has the zero time (always in effect).
func (p Params) Date(name, key string) (t time.Time, found bool) {
	for item := range strings.SplitSeq(p.String(name), ",") {
		k, d, _ := strings.Cut(strings.TrimSpace(item), "=")
		if !strings.EqualFold(strings.TrimSpace(k), key) {
			continue
		}
		if d = strings.TrimSpace(d); d == "" {
			return time.Time{}, true
		}
		t, _ = time.Parse(time.DateOnly, d)
		return t, true
	}
	return time.Time{}, false
}
