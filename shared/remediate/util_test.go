package remediate_test

import (
	"net/url"
	"strings"

	"github.com/kdaguard/kdaguard/internal/localaws"
)

func urlDecode(s string) (string, error) {
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		return url.QueryUnescape(s)
	}
	return s, nil
}

func faultCode(service, op, code string) localaws.Fault {
	return localaws.Fault{Service: service, Operation: op, ErrorCode: code}
}
