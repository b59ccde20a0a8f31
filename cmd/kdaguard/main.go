// Command kdaguard checks Amazon Managed Service for Apache Flink (Kinesis
// Data Analytics v2) applications against kdaguard's security rule catalog.
//
//	kdaguard rules [--format table|json|markdown]
//	kdaguard check [--format table|json|sarif] [--fail-on SEVERITY] [--strict] PATH...
//	kdaguard version
//
// Exit codes of check: 0 no NON_COMPLIANT finding at or above --fail-on,
// 1 there is one (UNKNOWN counts too with --strict), 2 bad usage or an input
// that cannot be read or parsed.
package main

import "os"

//go:generate sh -c "go run . rules --format markdown > ../../docs/rules.md"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
