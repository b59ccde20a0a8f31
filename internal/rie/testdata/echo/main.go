// Command echo is a tiny Lambda function for the rie package's own tests:
// it returns its payload with the value of ECHO_ENV, and fails on
// {"fail": "message"}, and touches {"touchMB": n} megabytes (for PeakRSS).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type in struct {
	Fail    string          `json:"fail"`
	TouchMB int             `json:"touchMB"`
	Any     json.RawMessage `json:"any"`
}

type out struct {
	Env    string          `json:"env"`
	Secret string          `json:"secret"`
	Any    json.RawMessage `json:"any"`
}

// sink keeps the touched memory reachable until the invocation returns.
var sink []byte

func main() {
	lambda.Start(func(ctx context.Context, e in) (out, error) {
		if e.Fail != "" {
			return out{}, errors.New(e.Fail)
		}
		if e.TouchMB > 0 {
			b := make([]byte, e.TouchMB<<20)
			for i := range b {
				b[i] = 1 // resident only once written
			}
			sink = b
		}
		return out{Env: os.Getenv("ECHO_ENV"), Secret: os.Getenv("RIE_TEST_LEAK"), Any: e.Any}, nil
	})
}
