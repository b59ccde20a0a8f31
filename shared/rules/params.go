package rules

import (
	"errors"
	"fmt"
	"regexp"
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
	TypeList   ParamType = "list"  // comma-separated, no empty or duplicate item
	TypeDates  ParamType = "dates" // comma-separated NAME=YYYY-MM-DD (NAME alone, "always", only where BareNames)
)

// dateName is what a NAME of a dates parameter may be (a runtime such as FLINK-1_20).
var dateName = regexp.MustCompile(`^[A-Z0-9_.-]+$`)

// Param is a rule parameter with its default.
type Param struct {
	Name        string
	Type        ParamType
	Default     string
	Description string
	// Allowed, when set, lists the values (or list items) accepted.
	Allowed []string
	// Min and Max bound an int parameter; Max 0 means no upper bound.
	Min, Max int
	// Pattern, when set, is a regular expression that the value (or each list
	// item) must match.
	Pattern *regexp.Regexp
	// BareNames lets a dates parameter list NAME alone (in effect always).
	BareNames bool
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
	if r.CheckParams != nil {
		if err := r.CheckParams(p); err != nil {
			return Params{}, fmt.Errorf("%s: %w", r.ID, err)
		}
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
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("is empty: leave the parameter out to use its default %q", p.Default)
	}
	switch p.Type {
	case TypeInt:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number >= 0", v)
		}
		if n < p.Min || p.Max > 0 && n > p.Max {
			if p.Max > 0 {
				return fmt.Errorf("%d is not between %d and %d", n, p.Min, p.Max)
			}
			return fmt.Errorf("%d is below the minimum %d", n, p.Min)
		}
		if len(p.Allowed) > 0 && !slices.Contains(p.Allowed, strconv.Itoa(n)) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(p.Allowed, ", "))
		}
	case TypeString:
		return p.validateItem(strings.TrimSpace(v))
	case TypeList, TypeDates:
		seen := make(map[string]bool)
		for item := range strings.SplitSeq(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				return fmt.Errorf("%q has an empty item", v)
			}
			key := item
			if p.Type == TypeDates {
				name, d, dated := strings.Cut(item, "=")
				key = strings.TrimSpace(name)
				if !dateName.MatchString(key) {
					return fmt.Errorf("%q: want NAME=YYYY-MM-DD with NAME of A-Z, 0-9, '_', '.', '-' (e.g. FLINK-1_20=2030-01-31)", item)
				}
				if dated {
					if _, err := time.Parse(time.DateOnly, strings.TrimSpace(d)); err != nil {
						return fmt.Errorf("%q: date must be YYYY-MM-DD", item)
					}
				} else if !p.BareNames {
					return fmt.Errorf("%q has no date: want NAME=YYYY-MM-DD", item)
				}
			} else if err := p.validateItem(item); err != nil {
				return err
			}
			k := strings.ToUpper(key)
			if seen[k] {
				return fmt.Errorf("%q is listed twice", key)
			}
			seen[k] = true
		}
	default:
		return errors.New("parameter of unknown type " + string(p.Type))
	}
	return nil
}

// validateItem checks one value (or list item) against Allowed and Pattern.
func (p *Param) validateItem(it string) error {
	if len(p.Allowed) > 0 && !slices.ContainsFunc(p.Allowed, func(a string) bool { return strings.EqualFold(a, it) }) {
		return fmt.Errorf("%q is not one of %s", it, strings.Join(p.Allowed, ", "))
	}
	if p.Pattern != nil && !p.Pattern.MatchString(it) {
		return fmt.Errorf("%q does not match %s", it, p.Pattern)
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

// Given reports whether the parameter was overridden (not defaulted).
func (p Params) Given(name string) bool {
	_, ok := p.values[name]
	return ok
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
