package model

import (
	"cmp"
	"slices"
	"strings"
)

// SecretRef names a runtime property that holds a plaintext credential. It
// never carries the value: reports name the group and key only.
type SecretRef struct {
	Group, Key string
	Kind       string // "access key id", "secret-named key", "embedded password"
}

// FindSecrets returns the runtime properties that hold plaintext
// credentials, sorted by group and key.
func FindSecrets(groups []PropertyGroup) []SecretRef {
	var out []SecretRef
	for _, g := range groups {
		for k, v := range g.Properties {
			if kind := SecretKind(k, v); kind != "" {
				out = append(out, SecretRef{Group: g.ID, Key: k, Kind: kind})
			}
		}
	}
	// Map order is random: sort so that reports (and what a clipped message
	// names) are the same on every run.
	slices.SortFunc(out, func(a, b SecretRef) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// SecretKind classifies one runtime property: "access key id", "secret-named
// key", "embedded password", or "" when it is not a credential. It is the one
// detector: KDA.DP.5 reports what it flags, report redaction hides those
// values, and stream inference never turns a flagged property into a stream.
func SecretKind(key, value string) string {
	v := strings.TrimSpace(value)
	if v == "" || isReference(v) {
		return ""
	}
	if hasAccessKeyID(v) {
		return "access key id"
	}
	if secretNamedKey(key) && !isFlagOrNumber(v) {
		return "secret-named key"
	}
	if embeddedPassword(v) || userInfoKey(key, v) {
		return "embedded password"
	}
	return ""
}

// isReference: a pointer to a secret store, a template reference or placeholder, not a secret.
func isReference(v string) bool {
	return strings.HasPrefix(v, "arn:") && (strings.Contains(v, ":secretsmanager:") || strings.Contains(v, ":ssm:")) ||
		strings.HasPrefix(v, "{{resolve:") || strings.HasPrefix(v, UnresolvedPrefix) ||
		strings.HasPrefix(v, "${") && strings.HasSuffix(v, "}")
}

// hasAccessKeyID finds AKIA/ASIA followed by 16 upper-case letters or digits.
func hasAccessKeyID(v string) bool {
	for i := 0; i+20 <= len(v); i++ {
		p := v[i : i+4]
		if p != "AKIA" && p != "ASIA" {
			continue
		}
		if i > 0 && isUpperAlnum(v[i-1]) {
			continue
		}
		ok := true
		for j := i + 4; j < i+20; j++ {
			ok = ok && isUpperAlnum(v[j])
		}
		if ok && (i+20 == len(v) || !isUpperAlnum(v[i+20])) {
			return true
		}
	}
	return false
}

func isUpperAlnum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// Words in a property key that make it a credential, unless the key also says
// it holds a pointer or a setting rather than the secret itself.
var (
	secretWords = []string{"password", "passwd", "pwd", "secret", "token", "apikey", "credential", "credentials", "privatekey", "accesskey", "secretkey", "passphrase"}
	// compoundSecretWords are found inside a word, not only as one ("token"
	// and "pwd" are not: "tokenizer", "pwdpolicy").
	compoundSecretWords = []string{"password", "passwd", "passphrase", "secret", "credential"}
	keyQualifiers       = []string{"access", "secret", "api", "private", "auth", "signing", "client", "master", "shared"}
	referenceWords      = []string{"arn", "name", "id", "path", "ref", "parameter", "param", "region", "file", "location", "provider", "type", "class", "mode", "enabled", "interval", "timeout", "ttl", "expiry", "size", "count", "length", "url", "endpoint", "uri", "mechanism", "algorithm"}
)

// secretNamedKey splits the key into words (on punctuation and camelCase) and
// looks for a secret word, or "key" qualified as an access/secret/api key.
// Only the last word can make the key a pointer or a setting ("db.password.arn",
// "token.refresh.interval"): earlier words are context
// ("aws.credentials.provider.basic.secretkey" is still a secret key).
func secretNamedKey(key string) bool {
	var words [16]string
	n := splitWords(key, words[:])
	if n == 0 {
		return false
	}
	for _, r := range referenceWords {
		if strings.EqualFold(words[n-1], r) {
			return false
		}
	}
	secret := false
	for i := 0; i < n; i++ {
		w := words[i]
		for _, s := range secretWords {
			secret = secret || strings.EqualFold(w, s)
		}
		// Run-together words ("dbpassword", "clientsecret"): the unambiguous
		// secret words count inside a word too.
		for _, s := range compoundSecretWords {
			secret = secret || indexFold(w, s) >= 0
		}
		if strings.EqualFold(w, "key") && i > 0 {
			for _, q := range keyQualifiers {
				secret = secret || strings.EqualFold(words[i-1], q)
			}
		}
	}
	return secret
}

// userInfoKey: Confluent's basic.auth.user.info and the like hold user:password.
func userInfoKey(key, value string) bool {
	var words [16]string
	n := splitWords(key, words[:])
	return n >= 2 && strings.EqualFold(words[n-2], "user") && strings.EqualFold(words[n-1], "info") &&
		strings.Contains(value, ":")
}

// splitWords writes the words of s into dst (sub-slices, no copies) and returns how many.
func splitWords(s string, dst []string) int {
	n, start := 0, -1
	flush := func(end int) {
		if start >= 0 && n < len(dst) {
			dst[n] = s[start:end]
			n++
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		switch {
		case !isLetter:
			flush(i)
		case start < 0:
			start = i
		case c >= 'A' && c <= 'Z' && i > 0 && s[i-1] >= 'a' && s[i-1] <= 'z':
			flush(i)
			start = i
		}
	}
	flush(len(s))
	return n
}

func isFlagOrNumber(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "none", "null":
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return len(v) < 6 // short numbers are settings; long digit strings may be PINs or tokens
}

// embeddedPassword finds a password inside a value: JAAS password="...",
// JDBC password=..., or URI user-info scheme://user:pass@host.
func embeddedPassword(v string) bool {
	for rest := v; ; {
		i := indexFold(rest, "password")
		if i < 0 {
			break
		}
		after := strings.TrimLeft(rest[i+len("password"):], " \t")
		if strings.HasPrefix(after, "=") {
			val := strings.TrimLeft(after[1:], " \t")
			val = strings.TrimPrefix(val, "\"")
			end := strings.IndexAny(val, "\";& \t")
			if end < 0 {
				end = len(val)
			}
			if lit := val[:end]; lit != "" && !isReference(lit) {
				return true
			}
		}
		rest = rest[i+len("password"):]
	}
	if i := strings.Index(v, "://"); i >= 0 {
		host := v[i+3:]
		if end := strings.IndexAny(host, "/?#"); end >= 0 {
			host = host[:end]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			if _, pass, ok := strings.Cut(host[:at], ":"); ok && pass != "" && !isReference(pass) {
				return true
			}
		}
	}
	return false
}

// indexFold is strings.Index ignoring ASCII case, without allocating.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
