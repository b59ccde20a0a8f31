package rules

import "strings"

// verdict gathers a multi-condition check: any failure makes the result
// NON_COMPLIANT (naming the unknowns too), else any unknown makes it UNKNOWN,
// else it is COMPLIANT. A rule never passes on what it could not read.
type verdict struct {
	failed   []string
	held     []string
	problems []string
	unknowns []string
	fixes    []Fix
}

// fail records a failing condition and what to change.
func (v *verdict) fail(condition, what string) {
	v.failed = append(v.failed, condition)
	v.problems = append(v.problems, what)
}

// fix records a failing condition with the fix that targets it.
func (v *verdict) fix(condition, what string, f Fix) {
	v.fail(condition, what)
	f.Condition = condition
	v.fixes = append(v.fixes, f)
}

// hold records a condition that was read and holds (one a fix may target).
func (v *verdict) hold(condition string) { v.held = append(v.held, condition) }

// unknown records a fact that could not be read.
func (v *verdict) unknown(what, reason string) {
	v.unknowns = append(v.unknowns, what+" ("+reason+")")
}

func (v *verdict) result(passMsg string) Result {
	switch {
	case len(v.failed) > 0:
		msg := strings.Join(v.problems, "; ")
		if len(v.unknowns) > 0 {
			msg += "; could not verify " + strings.Join(v.unknowns, ", ")
		}
		return Result{Status: NonCompliant, Message: Clip(msg), Failed: v.failed, Held: v.held, Fixes: v.fixes}
	case len(v.unknowns) > 0:
		return Result{Status: Unknown, Message: Clip("could not verify " + strings.Join(v.unknowns, ", ")), Held: v.held}
	default:
		return pass(passMsg)
	}
}
