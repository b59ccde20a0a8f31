package model

import (
	"maps"
	"slices"
	"strings"
)

// kinesisDataActions are the actions by which an application reads or writes
// a stream; a role allowed them on a stream ARN touches that stream.
var kinesisDataActions = []string{
	"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:SubscribeToShard",
	"kinesis:PutRecord", "kinesis:PutRecords",
}

// KinesisStreams returns the ARNs of the Kinesis data streams the application
// reads or writes, as far as they can be known without its code: a SQL
// application's inputs and outputs; for Flink, the stream ARNs in the
// execution role's Kinesis permissions and runtime property values naming a
// stream. complete is false (with the reason) when the role could not be read
// or grants access to streams it does not name (a wildcard, or NotResource,
// which means every resource but the listed ones).
func (a *Application) KinesisStreams() (arns []string, complete bool, reason string) {
	add := func(arn string) {
		if !slices.Contains(arns, arn) {
			arns = append(arns, arn)
		}
	}
	if a.IsSQL() {
		complete = true
		for _, s := range append(a.SQLInputs[:len(a.SQLInputs):len(a.SQLInputs)], a.SQLOutputs...) {
			switch {
			case IsStreamARN(s):
				add(s)
			case strings.HasPrefix(s, UnresolvedPrefix):
				complete, reason = false, "a SQL input or output the template does not resolve ("+s+")"
			}
		}
		return arns, complete, reason
	}
	complete = true
	names := a.Account != "" && a.Region != ""
	if groups, ok := a.Properties.Get(); ok {
		for _, g := range groups {
			// Sorted keys: the same input gives the same report on every run.
			for _, k := range slices.Sorted(maps.Keys(g.Properties)) {
				v := g.Properties[k]
				// The secret test comes last, on the few properties that would
				// name a stream: it never lets a credential become a "stream
				// name" in a report, and it is the costly test.
				if arn, exact := streamOf(v); arn != "" && exact {
					if SecretKind(k, v) == "" {
						add(arn)
					}
				} else if strings.HasPrefix(v, UnresolvedPrefix) && containsFold(k, "stream") {
					complete, reason = false, "runtime property "+g.ID+"/"+k+" is not resolved in the template"
				} else if names && containsFold(k, "stream") && (hasSuffixFold(k, "name") || hasSuffixFold(k, "stream")) && isStreamName(v) &&
					SecretKind(k, v) == "" {
					add(StreamARN(a.Partition, a.Region, a.Account, v))
				}
			}
		}
	} else {
		complete, reason = false, "runtime properties: "+a.Properties.Reason()
	}
	role, ok := a.Related.Role.Get()
	if !ok {
		return arns, false, "execution role: " + a.Related.Role.Reason()
	}
	var docs []Fact[PolicyDocument]
	if in, ok := role.Inline.Get(); ok {
		for _, p := range in {
			docs = append(docs, p.Document)
		}
	} else {
		return arns, false, "inline policies: " + role.Inline.Reason()
	}
	if at, ok := role.Attached.Get(); ok {
		for _, p := range at {
			docs = append(docs, p.Document)
		}
	} else {
		return arns, false, "attached policies: " + role.Attached.Reason()
	}
	for _, d := range docs {
		doc, ok := d.Get()
		if !ok {
			complete, reason = false, "a role policy: "+d.Reason()
			continue
		}
		for _, st := range doc.Statement {
			if !allowsAny(st, kinesisDataActions) {
				continue
			}
			if len(st.NotResource) > 0 {
				// Every resource but the listed ones: (almost) every stream.
				complete, reason = false, "the role grants Kinesis access with NotResource (every stream but "+strings.Join(st.NotResource, ", ")+")"
				continue
			}
			for _, r := range st.Resource {
				arn, exact := streamOf(r)
				switch {
				case arn != "" && exact:
					add(arn)
				case r == "*" || arn != "" || strings.Contains(r, ":kinesis:"):
					complete, reason = false, "the role grants Kinesis access to streams matching "+r
				}
			}
		}
	}
	return arns, complete, reason
}

func allowsAny(st Statement, actions []string) bool {
	for _, a := range actions {
		if st.Allows(a) {
			return true
		}
	}
	return false
}

// streamOf reduces a stream ARN, a stream-scoped resource pattern or an
// enhanced fan-out consumer ARN (…:stream/NAME/consumer/C:T) to the stream's
// ARN. exact is false when the stream part holds a wildcard.
func streamOf(r string) (arn string, exact bool) {
	if !IsStreamARN(r) {
		return "", false
	}
	i := strings.Index(r, ":stream/") + len(":stream/")
	name, _, _ := strings.Cut(r[i:], "/")
	arn = r[:i] + name
	return arn, name != "" && !strings.ContainsAny(arn, "*?")
}

// IsStreamARN reports whether s is a Kinesis data stream ARN.
func IsStreamARN(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Contains(s, ":kinesis:") && strings.Contains(s, ":stream/")
}

// StreamARN builds a stream's ARN.
func StreamARN(partition, region, account, name string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":kinesis:" + region + ":" + account + ":stream/" + name
}

// StreamName is the last part of a stream ARN.
func StreamName(arn string) string {
	_, name, _ := strings.Cut(arn, ":stream/")
	name, _, _ = strings.Cut(name, "/")
	return name
}

func isStreamName(v string) bool {
	if len(v) == 0 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
