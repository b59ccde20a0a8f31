// Package template reads AWS CloudFormation templates (JSON or YAML, short
// tags included) and CDK cloud assemblies into the application model, one
// model.Application per AWS::KinesisAnalyticsV2::Application resource.
//
// Intrinsic functions are resolved where they point inside the template;
// the pseudo-parameters AWS::AccountId, AWS::Region and AWS::Partition (and
// AWS::StackName, AWS::StackId, AWS::URLSuffix, constant within one stack)
// stay symbolic ("${AWS::Region}") so that equal references compare equal.
// Anything else (parameters without a default, NoEcho parameters,
// Fn::ImportValue, conditions that cannot be decided, attributes only known
// after deployment) becomes an unknown fact with the reason, or, in a runtime
// property value, the placeholder model.UnresolvedPrefix+"NAME}}".
package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

type kind uint8

const (
	kNull kind = iota
	kScalar
	kMap
	kList
	kUnres   // a value the template cannot tell: s is the reason, name the placeholder name
	kNoValue // AWS::NoValue: the property is removed
)

// node is a template value with its line, independent of JSON or YAML.
type node struct {
	k    kind
	s    string // scalar text, or the reason of an unresolved value
	name string // placeholder name of an unresolved value
	tag  string // scalar type: str, int, float, bool, null
	keys []string
	vals []*node
	line int
}

// get is the value of key in a map. Reading through a value the template
// cannot tell (an undecidable Fn::If, an import...) gives that unresolved
// value: whether the key is there is unknown too, so it must not read as
// absent (which would apply the service's defaults).
func (n *node) get(key string) *node {
	if n != nil && n.k == kUnres {
		return n
	}
	if n == nil || n.k != kMap {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *node) path(keys ...string) *node {
	for _, k := range keys {
		n = n.get(k)
	}
	return n
}

func (n *node) keyLine(key string, def int) int {
	if n == nil || n.k != kMap {
		return def
	}
	for i, k := range n.keys {
		if k == key && n.vals[i] != nil {
			return n.vals[i].line
		}
	}
	return def
}

func unres(name, reason string) *node { return &node{k: kUnres, name: name, s: reason} }

func scalar(s string) *node { return &node{k: kScalar, s: s, tag: "str"} }

// Limits that keep hostile input (alias bombs, deep nesting) bounded.
const (
	maxDepth = 256
	maxNodes = 500_000
)

var errTooLarge = errors.New("template too large or too deeply nested (YAML aliases expand beyond the limit)")

// decode reads JSON or YAML into a node tree.
func decode(data []byte) (*node, error) {
	trim := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trim) > 0 && trim[0] == '{' {
		// JSON, valid or not: its errors are JSON's (a template is not a
		// YAML flow mapping).
		return decodeJSON(bytes.TrimPrefix(data, []byte("\ufeff")))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, errors.New("empty template")
	}
	c := &yconv{}
	return c.conv(doc.Content[0], 0)
}

type yconv struct{ count int }

// shortTags maps YAML short-form intrinsic tags to their long form.
var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition", "!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub",
	"!Join": "Fn::Join", "!Select": "Fn::Select", "!Split": "Fn::Split", "!If": "Fn::If",
	"!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Not": "Fn::Not",
	"!FindInMap": "Fn::FindInMap", "!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr",
	"!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue", "!Transform": "Fn::Transform",
	"!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString",
}

func (c *yconv) conv(y *yaml.Node, depth int) (*node, error) {
	c.count++
	if c.count > maxNodes || depth > maxDepth {
		return nil, errTooLarge
	}
	if y.Kind == yaml.AliasNode {
		if y.Alias == nil {
			return &node{k: kNull, line: y.Line}, nil
		}
		return c.conv(y.Alias, depth+1)
	}
	if y.Kind == yaml.DocumentNode {
		if len(y.Content) == 0 {
			return &node{k: kNull, line: y.Line}, nil
		}
		return c.conv(y.Content[0], depth+1)
	}
	if long, ok := shortTags[y.Tag]; ok {
		inner := *y
		inner.Tag = ""
		if y.Kind == yaml.ScalarNode {
			inner.Tag = "!!str"
		}
		v, err := c.conv(&inner, depth+1)
		if err != nil {
			return nil, err
		}
		return &node{k: kMap, keys: []string{long}, vals: []*node{v}, line: y.Line}, nil
	}
	switch y.Kind {
	case yaml.ScalarNode:
		tag := strings.TrimPrefix(y.ShortTag(), "!!")
		if tag == "null" {
			return &node{k: kNull, line: y.Line, tag: tag}, nil
		}
		if strings.HasPrefix(tag, "!") {
			return nil, fmt.Errorf("line %d: unknown tag %s", y.Line, y.Tag)
		}
		return &node{k: kScalar, s: y.Value, tag: tag, line: y.Line}, nil
	case yaml.SequenceNode:
		n := &node{k: kList, line: y.Line}
		for _, e := range y.Content {
			v, err := c.conv(e, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		return n, nil
	case yaml.MappingNode:
		if strings.HasPrefix(y.Tag, "!") && !strings.HasPrefix(y.Tag, "!!") {
			return nil, fmt.Errorf("line %d: unknown tag %s", y.Line, y.Tag)
		}
		n := &node{k: kMap, line: y.Line}
		seen := make(map[string]int, len(y.Content)/2)
		for i := 0; i+1 < len(y.Content); i += 2 {
			k := y.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a string", k.Line)
			}
			if err := duplicate(seen, k.Value, k.Line); err != nil {
				return nil, err
			}
			v, err := c.conv(y.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			if v.line == 0 || v.k == kMap || v.k == kList {
				// The line of a map entry is its key's line.
				v.line = k.Line
			}
			n.keys = append(n.keys, k.Value)
			n.vals = append(n.vals, v)
		}
		return n, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", y.Line)
}

// duplicate records key at line in seen, and is an error when the map
// already has it: which of the two values the deployment would use is not
// something to guess.
func duplicate(seen map[string]int, key string, line int) error {
	if first, ok := seen[key]; ok {
		return fmt.Errorf("line %d: duplicate key %q (first at line %d)", line, key, first)
	}
	seen[key] = line
	return nil
}

// decodeJSON reads JSON keeping line numbers (YAML's reader rejects some
// valid JSON, e.g. tab indentation).
func decodeJSON(data []byte) (*node, error) {
	var starts []int
	starts = append(starts, 0)
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	lineAt := func(off int64) int { return sort.SearchInts(starts, int(off)+1) }
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	count := 0
	var read func(depth int) (*node, error)
	read = func(depth int) (*node, error) {
		count++
		if count > maxNodes || depth > maxDepth {
			return nil, errTooLarge
		}
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		line := lineAt(d.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				n := &node{k: kMap, line: line}
				seen := map[string]int{}
				for d.More() {
					kt, err := d.Token()
					if err != nil {
						return nil, err
					}
					key, _ := kt.(string)
					kline := lineAt(d.InputOffset())
					if err := duplicate(seen, key, kline); err != nil {
						return nil, err
					}
					v, err := read(depth + 1)
					if err != nil {
						return nil, err
					}
					v.line = kline
					n.keys = append(n.keys, key)
					n.vals = append(n.vals, v)
				}
				_, err := d.Token()
				return n, err
			case '[':
				n := &node{k: kList, line: line}
				for d.More() {
					v, err := read(depth + 1)
					if err != nil {
						return nil, err
					}
					n.vals = append(n.vals, v)
				}
				_, err := d.Token()
				return n, err
			}
		case string:
			return &node{k: kScalar, s: t, tag: "str", line: line}, nil
		case json.Number:
			tag := "int"
			if strings.ContainsAny(t.String(), ".eE") {
				tag = "float"
			}
			return &node{k: kScalar, s: t.String(), tag: tag, line: line}, nil
		case bool:
			return &node{k: kScalar, s: strconv.FormatBool(t), tag: "bool", line: line}, nil
		case nil:
			return &node{k: kNull, tag: "null", line: line}, nil
		}
		return nil, fmt.Errorf("unexpected JSON token %v", tok)
	}
	n, err := read(0)
	if err == nil {
		// Nothing but white space may follow the document.
		if _, err = d.Token(); errors.Is(err, io.EOF) {
			return n, nil
		}
	}
	var se *json.SyntaxError
	if err == nil || errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The decoder's offsets may be relative to the token it was
		// reading: a scan of the whole document tells the line.
		var raw json.RawMessage
		if errors.As(json.Unmarshal(data, &raw), &se) {
			return nil, fmt.Errorf("line %d: invalid JSON: %v", lineAt(se.Offset), se)
		}
		if err == nil {
			return nil, fmt.Errorf("line %d: invalid JSON: data after the JSON document", lineAt(d.InputOffset()))
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return nil, err
}

// toJSON converts a resolved node to a value encoding/json can marshal.
func toJSON(n *node) any {
	if n == nil {
		return nil
	}
	switch n.k {
	case kScalar:
		switch n.tag {
		case "int", "float":
			if json.Valid([]byte(n.s)) {
				return json.Number(n.s)
			}
		case "bool":
			if b, err := strconv.ParseBool(n.s); err == nil {
				return b
			}
		}
		return n.s
	case kList:
		out := make([]any, 0, len(n.vals))
		for _, v := range n.vals {
			out = append(out, toJSON(v))
		}
		return out
	case kMap:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			out[k] = toJSON(n.vals[i])
		}
		return out
	}
	return nil
}

// firstUnres finds an unresolved value inside n.
func firstUnres(n *node) *node {
	if n == nil {
		return nil
	}
	switch n.k {
	case kUnres:
		return n
	case kMap, kList:
		for _, v := range n.vals {
			if u := firstUnres(v); u != nil {
				return u
			}
		}
	}
	return nil
}
