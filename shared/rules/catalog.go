package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kdaguard/kdaguard/shared/model"
)

// catalog is filled by each rule file's init and only read afterwards.
var catalog []*Rule

// register adds a rule; each rule file calls it once from init, so adding a
// rule touches one place.
func register(r *Rule) {
	if r.Scope == "" {
		r.Scope = ScopeApplication
	}
	if r.Remediation.Kind == "" {
		r.Remediation.Kind = RemediationNone
	}
	catalog = append(catalog, r)
	slices.SortFunc(catalog, func(a, b *Rule) int { return compareIDs(a.ID, b.ID) })
}

// compareIDs orders KDA.DP.2 before KDA.DP.10 and topics as the guide does.
func compareIDs(a, b string) int {
	order := "DP IAM MON CMP RES INF"
	ta, na := splitID(a)
	tb, nb := splitID(b)
	if c := cmp.Compare(strings.Index(order, ta), strings.Index(order, tb)); c != 0 {
		return c
	}
	return cmp.Compare(na, nb)
}

func splitID(id string) (topic string, n int) {
	parts := strings.Split(id, ".")
	if len(parts) != 3 {
		return id, 0
	}
	fmt.Sscanf(parts[2], "%d", &n)
	return parts[1], n
}

// All returns the catalog in id order. Callers must not modify the rules.
func All() []*Rule { return catalog }

// ByID finds a rule by id (case-insensitive).
func ByID(id string) (*Rule, bool) {
	for _, r := range catalog {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return nil, false
}

// Needs is the union of the facets the given rules read, in the catalog's
// facet order, so a collector loads only what they need.
func Needs(rs []*Rule) []model.Facet {
	var out []model.Facet
	for _, r := range rs {
		for _, f := range r.Needs {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Finding is one rule's result on one application.
type Finding struct {
	Rule *Rule
	Result
}

// EffectiveSeverity is the result's severity, or the rule's.
func (f Finding) EffectiveSeverity() Severity {
	if f.Severity != 0 {
		return f.Severity
	}
	return f.Rule.Severity
}

// Selection is a set of rules with their parameters, validated once.
type Selection struct {
	Rules  []*Rule
	params []Params
}

// Select validates parameters for the given rules (nil = the whole catalog).
// overrides maps rule id to parameter overrides.
func Select(rs []*Rule, overrides map[string]map[string]string) (*Selection, error) {
	if rs == nil {
		rs = All()
	}
	// Rule ids are matched case-insensitively everywhere: key the overrides
	// by canonical id so none is silently dropped.
	canonical := make(map[string]map[string]string, len(overrides))
	for id, o := range overrides {
		r, ok := ByID(id)
		if !ok {
			return nil, fmt.Errorf("parameters given for unknown rule %q", id)
		}
		if _, dup := canonical[r.ID]; dup {
			return nil, fmt.Errorf("parameters given twice for rule %s", r.ID)
		}
		canonical[r.ID] = o
	}
	// Overrides of rules outside the selection are validated too: bad input
	// is an error wherever it is given.
	for _, r := range All() {
		if o, given := canonical[r.ID]; given && !slices.Contains(rs, r) {
			if _, err := NewParams(r, o); err != nil {
				return nil, err
			}
		}
	}
	s := &Selection{Rules: rs, params: make([]Params, len(rs))}
	for i, r := range rs {
		p, err := NewParams(r, canonical[r.ID])
		if err != nil {
			return nil, err
		}
		s.params[i] = p
	}
	return s, nil
}

// Evaluate runs every selected rule on app at time now. A check that panics
// is a bug; it is turned into an UNKNOWN result rather than a crash of the
// whole evaluation, and never into COMPLIANT.
func (s *Selection) Evaluate(app *model.Application, now time.Time) []Finding {
	out := make([]Finding, len(s.Rules))
	for i, r := range s.Rules {
		out[i] = Finding{Rule: r, Result: run(r, Input{App: app, Params: s.params[i], Now: now})}
	}
	return out
}

func run(r *Rule, in Input) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = unknown("internal error in check", fmt.Sprint(p))
		}
	}()
	res = r.Check(in)
	res.Message = Clip(res.Message)
	for i := range res.Fixes {
		res.Fixes[i].Rule = r.ID
		if res.Fixes[i].Kind == "" {
			res.Fixes[i].Kind = r.Remediation.Kind
		}
		if res.Fixes[i].Call == "" {
			res.Fixes[i].Call = r.Remediation.Call
		}
	}
	return res
}
