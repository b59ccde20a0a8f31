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
	var buf [16]string
	words := splitWords(key, buf[:])
	if secretNamedKey(words) && !isFlagOrNumber(v) {
		return "secret-named key"
	}
	if embeddedPassword(v) || userInfoKey(words, v) {
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
func secretNamedKey(words []string) bool {
	n := len(words)
	if n == 0 || slices.Contains(referenceWords, words[n-1]) {
		return false
	}
	for i, w := range words {
		if slices.Contains(secretWords, w) {
			return true
		}
		// Run-together words ("dbpassword", "clientsecret"): the unambiguous
		// secret words count inside a word too.
		for _, s := range compoundSecretWords {
			if strings.Contains(w, s) {
				return true
			}
		}
		if w == "key" && i > 0 && slices.Contains(keyQualifiers, words[i-1]) {
			return true
		}
	}
	return false
}

// userInfoKey: Confluent's basic.auth.user.info and the like hold user:password.
func userInfoKey(words []string, value string) bool {
	n := len(words)
	return n >= 2 && words[n-2] == "user" && words[n-1] == "info" && strings.Contains(value, ":")
}

// splitWords splits s on punctuation and camelCase into lower-case words,
// at most len(dst), written into dst; they are sub-slices of s lowered once
// (no copy when s has no upper-case letter).
func splitWords(s string, dst []string) []string {
	low := lowerASCII(s)
	n, start := 0, -1
	flush := func(end int) {
		if start >= 0 && n < len(dst) {
			dst[n] = low[start:end]
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
	return dst[:n]
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
	low := lowerASCII(v) // same byte offsets as v
	for off := 0; ; {
		i := strings.Index(low[off:], "password")
		if i < 0 {
			break
		}
		rest := v[off:]
		off += i + len("password")
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

// lowerASCII lowers A-Z only, so byte offsets stay those of s; it allocates
// only when s has an upper-case letter.
func lowerASCII(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if c := b[j]; c >= 'A' && c <= 'Z' {
			b[j] = c + 'a' - 'A'
		}
	}
	return string(b)
}
