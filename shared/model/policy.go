package model

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// PolicyDocument is an IAM policy (identity, trust or key policy).
type PolicyDocument struct {
	Version   string      `json:"Version,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one policy statement. IAM accepts a string or a list almost
// everywhere; Strings absorbs both.
type Statement struct {
	Sid          string                        `json:"Sid,omitempty"`
	Effect       string                        `json:"Effect"`
	Principal    *Principal                    `json:"Principal,omitempty"`
	NotPrincipal *Principal                    `json:"NotPrincipal,omitempty"`
	Action       Strings                       `json:"Action,omitempty"`
	NotAction    Strings                       `json:"NotAction,omitempty"`
	Resource     Strings                       `json:"Resource,omitempty"`
	NotResource  Strings                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string]Strings `json:"Condition,omitempty"`
}

// Strings is a JSON string or list of strings.
type Strings []string

// UnmarshalJSON accepts "x" and ["x", "y"].
func (s *Strings) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		l := make([]string, len(raw))
		for i, r := range raw {
			// Conditions may list numbers or booleans: keep them as text.
			if err := json.Unmarshal(r, &l[i]); err != nil {
				l[i] = string(r)
			}
		}
		*s = l
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		// IAM also accepts booleans and numbers in conditions.
		*s = Strings{string(b)}
		return nil //nolint:nilerr // a scalar condition value kept as text
	}
	*s = Strings{v}
	return nil
}

// Principal is "*" or a map of principal types to values.
type Principal struct {
	Any     bool // "*"
	AWS     Strings
	Service Strings
	Fed     Strings
	Other   Strings // CanonicalUser and whatever else
}

// UnmarshalJSON reads "*" or {"AWS": ..., "Service": ...}.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		p.Any = s == "*"
		if !p.Any {
			p.Other = Strings{s}
		}
		return nil
	}
	var m map[string]Strings
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("principal: %w", err)
	}
	for k, v := range m {
		switch k {
		case "AWS":
			p.AWS = v
		case "Service":
			p.Service = v
		case "Federated":
			p.Fed = v
		default:
			p.Other = append(p.Other, v...)
		}
	}
	for _, a := range p.AWS {
		if a == "*" {
			p.Any = true
		}
	}
	return nil
}

// MarshalJSON writes the principal back in IAM's shape.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any && len(p.AWS) == 0 {
		return json.Marshal("*")
	}
	m := map[string]Strings{}
	if len(p.AWS) > 0 {
		m["AWS"] = p.AWS
	}
	if len(p.Service) > 0 {
		m["Service"] = p.Service
	}
	if len(p.Fed) > 0 {
		m["Federated"] = p.Fed
	}
	if len(p.Other) > 0 {
		m["CanonicalUser"] = p.Other
	}
	return json.Marshal(m)
}

// ParsePolicy parses a policy document, URL-decoding it first when it comes
// URL-encoded as IAM's Get* calls return it.
func ParsePolicy(doc string) (PolicyDocument, error) {
	s := strings.TrimSpace(doc)
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		d, err := url.QueryUnescape(s)
		if err != nil {
			return PolicyDocument{}, fmt.Errorf("url-decode policy: %w", err)
		}
		s = d
	}
	var p PolicyDocument
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		// A single statement object instead of a list is valid IAM.
		var one struct {
			Version   string
			Statement Statement
		}
		if err2 := json.Unmarshal([]byte(s), &one); err2 != nil || one.Statement.Effect == "" {
			return PolicyDocument{}, fmt.Errorf("parse policy: %w", err)
		}
		return PolicyDocument{Version: one.Version, Statement: []Statement{one.Statement}}, nil
	}
	return p, nil
}

// Allows reports whether the statement allows the given action, honouring
// wildcards in the statement's actions ("kinesis:*", "*", "kinesis:Get*").
func (s Statement) Allows(action string) bool {
	if s.Effect != "Allow" {
		return false
	}
	if len(s.NotAction) > 0 {
		for _, a := range s.NotAction {
			if WildcardMatch(a, action) {
				return false
			}
		}
		return true
	}
	for _, a := range s.Action {
		if WildcardMatch(a, action) {
			return true
		}
	}
	return false
}

// WildcardMatch matches IAM patterns with * and ?, ignoring ASCII case as
// IAM does for actions. It does not allocate: it runs on every statement.
func WildcardMatch(pattern, s string) bool {
	p, v := pattern, s
	// Iterative glob match with backtracking on the last star.
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || lower(p[pi]) == lower(v[vi])):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// GuardsConfusedDeputy reports whether a trust statement's conditions tie
// the service to the applications of account (the application's account: a
// 12-digit id, or the symbolic pseudo-parameter a template gives; "" when not
// known), so that no other account's application can make the service assume
// the role. It takes one of:
//   - aws:SourceAccount under StringEquals (or StringLike, which is the same
//     for a literal id) whose every value is the account;
//   - aws:SourceArn under ArnEquals, ArnLike, StringEquals or StringLike whose
//     every value is a kinesisanalytics application ARN of the account.
//
// A key under any other operator does not guard: Null only asks that the key
// be present, ...IfExists lets a request without the key through, and
// ForAnyValue/ForAllValues are for multi-valued keys (ForAllValues matches a
// request without the key). A wildcard account or a value that is not an
// application ARN ("*") does not guard either.
func GuardsConfusedDeputy(st Statement, account string) bool {
	for op, kv := range st.Condition {
		for k, vals := range kv {
			if len(vals) == 0 {
				continue
			}
			var ok bool
			switch {
			case strings.EqualFold(k, "aws:SourceAccount"):
				ok = strings.EqualFold(op, "StringEquals") || strings.EqualFold(op, "StringLike")
				for _, v := range vals {
					ok = ok && accountMatches(v, account)
				}
			case strings.EqualFold(k, "aws:SourceArn"):
				ok = strings.EqualFold(op, "ArnEquals") || strings.EqualFold(op, "ArnLike") ||
					strings.EqualFold(op, "StringEquals") || strings.EqualFold(op, "StringLike")
				for _, v := range vals {
					ok = ok && isApplicationARNOf(v, account)
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// accountMatches: v names the account. When the account is not a literal id
// (a template's pseudo-parameter, or unknown), a literal 12-digit id is taken
// as the deploying account: it cannot be checked before deployment.
func accountMatches(v, account string) bool {
	if v == "" || strings.ContainsAny(v, "*?") {
		return false
	}
	if v == account {
		return true
	}
	return isAccountID(v) && !isAccountID(account)
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isApplicationARNOf: v is arn:PARTITION:kinesisanalytics:REGION:ACCOUNT:application/NAME
// with the account named exactly (partition, region and name may hold
// wildcards). Parsed from the service and resource ends rather than by
// splitting on ":", as a template's pseudo-parameters ("${AWS::Region}")
// hold colons themselves.
func isApplicationARNOf(v, account string) bool {
	if !strings.HasPrefix(v, "arn:") {
		return false
	}
	i := strings.Index(v, ":kinesisanalytics:")
	if i < 0 {
		return false
	}
	rest := v[i+len(":kinesisanalytics:"):]
	j := strings.LastIndex(rest, ":application/")
	if j < 0 || strings.ContainsAny(v[:i], "/") || len(rest[j+len(":application/"):]) == 0 ||
		strings.Contains(rest[j+len(":application/"):], ":") {
		return false
	}
	regionAccount := rest[:j]
	if account != "" && strings.HasSuffix(regionAccount, ":"+account) {
		return true
	}
	k := strings.LastIndex(regionAccount, ":")
	return k >= 0 && accountMatches(regionAccount[k+1:], account)
}
