// Package model is the one view of a Flink application that every rule reads.
//
// Both adapters (DescribeApplication and CloudFormation templates) and the live
// collector fill the same types, so a rule cannot tell where its input came
// from. Everything that was not read, could not be read, or cannot be resolved
// from a template is a Fact that is unknown, with the reason.
package model

// Fact is a value that may be unknown. The zero value is unknown with the
// reason "not read", so a collector that skips a facet leaves it unknown
// rather than empty: an empty list must never pass for a verified one.
type Fact[T any] struct {
	value  T
	known  bool
	reason string
}

// Known returns a fact whose value was read.
func Known[T any](v T) Fact[T] { return Fact[T]{value: v, known: true} }

// Unknown returns a fact that could not be established, with why.
func Unknown[T any](reason string) Fact[T] {
	if reason == "" {
		reason = "not read"
	}
	return Fact[T]{reason: reason}
}

// Get returns the value and whether it is known.
func (f Fact[T]) Get() (T, bool) { return f.value, f.known }

// Known reports whether the value was read.
func (f Fact[T]) Known() bool { return f.known }

// Value returns the value, the zero value when unknown.
func (f Fact[T]) Value() T { return f.value }

// Reason says why the fact is unknown; empty when known.
func (f Fact[T]) Reason() string {
	if f.known {
		return ""
	}
	if f.reason == "" {
		return "not read"
	}
	return f.reason
}
