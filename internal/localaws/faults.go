package localaws

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Fault is one fault injection rule. Service and Operation select the calls
// it applies to ("" or "*" = any; Service takes the SDK module name or the
// signing name). Every matching rule applies: latencies add up, and the first
// rule that decides to fail a call wins (rate limit, then throttling, then
// server error, then ErrorCode).
type Fault struct {
	Service   string `json:"service,omitempty"`
	Operation string `json:"operation,omitempty"`
	// ThrottleRate is the probability (0..1) of answering with the service's
	// real throttling error (ThrottlingException, Throttling,
	// RequestLimitExceeded, SlowDown, LimitExceededException for Kinesis).
	ThrottleRate float64 `json:"throttleRate,omitempty"`
	// ServerErrorRate is the probability of a 500 InternalFailure
	// (InternalError for EC2 and S3).
	ServerErrorRate float64 `json:"serverErrorRate,omitempty"`
	// ErrorCode is returned with probability ErrorRate (1 if ErrorRate is 0
	// and ErrorCode is set). ErrorStatus defaults to a status fitting the code.
	ErrorCode    string  `json:"errorCode,omitempty"`
	ErrorRate    float64 `json:"errorRate,omitempty"`
	ErrorStatus  int     `json:"errorStatus,omitempty"`
	ErrorMessage string  `json:"errorMessage,omitempty"`
	// Latency is added before the call is handled.
	Latency time.Duration `json:"latency,omitempty"`
	// RateLimit is a token bucket in requests per second (0 = none) with
	// Burst tokens (default: max(1, ceil(RateLimit))). A call finding the
	// bucket empty gets the throttling error.
	RateLimit float64 `json:"rateLimit,omitempty"`
	Burst     int     `json:"burst,omitempty"`
	// MaxConsecutive, when set, caps the random failures (ThrottleRate,
	// ServerErrorRate, ErrorRate) this rule injects in a row into one
	// operation: the next call passes. Tests use it to assert that a client
	// rides out transient faults without depending on luck.
	MaxConsecutive int `json:"maxConsecutive,omitempty"`
}

// UnmarshalJSON accepts latency as a Go duration string ("250ms") or a number
// of milliseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var aux struct {
		plain
		Latency any `json:"latency,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Fault(aux.plain)
	f.Latency = 0
	switch v := aux.Latency.(type) {
	case nil:
	case string:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("fault latency: %w", err)
		}
		f.Latency = d
	case float64:
		f.Latency = time.Duration(v * float64(time.Millisecond))
	default:
		return fmt.Errorf("fault latency: want a duration string or milliseconds, got %T", v)
	}
	return nil
}

// MarshalJSON writes latency as a duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	aux := struct {
		plain
		Latency string `json:"latency,omitempty"`
	}{plain: plain(f)}
	if f.Latency != 0 {
		aux.Latency = f.Latency.String()
	}
	return json.Marshal(aux)
}

// Validate reports a rule that cannot work.
func (f Fault) Validate() error {
	for name, r := range map[string]float64{"throttleRate": f.ThrottleRate, "serverErrorRate": f.ServerErrorRate, "errorRate": f.ErrorRate} {
		if r < 0 || r > 1 || math.IsNaN(r) {
			return fmt.Errorf("fault %s/%s: %s %v is not between 0 and 1", f.Service, f.Operation, name, r)
		}
	}
	if f.RateLimit < 0 || f.Burst < 0 || f.Latency < 0 {
		return fmt.Errorf("fault %s/%s: negative rateLimit, burst or latency", f.Service, f.Operation)
	}
	if f.ErrorRate > 0 && f.ErrorCode == "" {
		return fmt.Errorf("fault %s/%s: errorRate without errorCode", f.Service, f.Operation)
	}
	return nil
}

type bucket struct {
	tokens float64
	last   time.Time
}

type faultSet struct {
	faults  []Fault
	buckets []*bucket
	streak  map[string]int // rule index + operation -> failures injected in a row
}

func newFaultSet(f []Fault) *faultSet {
	fs := &faultSet{faults: append([]Fault(nil), f...)}
	fs.buckets = make([]*bucket, len(fs.faults))
	for i, x := range fs.faults {
		if x.RateLimit > 0 {
			fs.buckets[i] = &bucket{tokens: float64(burstOf(x)), last: time.Now()}
		}
	}
	return fs
}

func burstOf(f Fault) int {
	if f.Burst > 0 {
		return f.Burst
	}
	return max(1, int(math.Ceil(f.RateLimit)))
}

// SetFaults replaces the fault set (no argument clears it). Rules that fail
// Validate are dropped and logged.
func (s *Server) SetFaults(f ...Fault) {
	ok := f[:0:0]
	for _, x := range f {
		if err := x.Validate(); err != nil {
			s.log.Warn("fault rule dropped", "error", err)
			continue
		}
		ok = append(ok, x)
	}
	s.mu.Lock()
	s.faults = newFaultSet(ok)
	s.mu.Unlock()
}

// Faults returns the active fault set.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault(nil), s.faults.faults...)
}

func (f Fault) matches(service, op string) bool {
	return matches(canonicalService(f.Service), service) && matches(f.Operation, op)
}

// applyFaults sleeps for the matching latency and returns the injected error,
// if any.
func (s *Server) applyFaults(c *call) *apiError {
	var latency time.Duration
	var injected *apiError
	s.mu.Lock()
	fs := s.faults
	now := time.Now()
	for i, f := range fs.faults {
		if !f.matches(c.service, c.op) {
			continue
		}
		latency += f.Latency
		if injected != nil {
			continue
		}
		if b := fs.buckets[i]; b != nil {
			b.tokens = math.Min(float64(burstOf(f)), b.tokens+now.Sub(b.last).Seconds()*f.RateLimit)
			b.last = now
			if b.tokens >= 1 {
				b.tokens--
			} else {
				injected = throttleError(c.service, "Rate exceeded")
				continue
			}
		}
		key := fmt.Sprint(i, "|", c.service, ":", c.op)
		if f.MaxConsecutive > 0 && fs.streak[key] >= f.MaxConsecutive {
			delete(fs.streak, key)
			continue
		}
		switch {
		case f.ThrottleRate > 0 && rand.Float64() < f.ThrottleRate:
			injected = throttleError(c.service, "Rate exceeded")
		case f.ServerErrorRate > 0 && rand.Float64() < f.ServerErrorRate:
			injected = serverError(c.service)
		case f.ErrorCode != "" && (f.ErrorRate == 0 || rand.Float64() < f.ErrorRate):
			msg := f.ErrorMessage
			if msg == "" {
				msg = "injected by localaws"
			}
			injected = &apiError{Code: f.ErrorCode, Message: msg, Status: f.ErrorStatus}
			if injected.Status == 0 {
				injected.Status = statusForCode(f.ErrorCode)
			}
		}
		if f.MaxConsecutive > 0 {
			if injected != nil {
				if fs.streak == nil {
					fs.streak = map[string]int{}
				}
				fs.streak[key]++
			} else {
				delete(fs.streak, key)
			}
		}
	}
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		ctx := context.Background()
		if c.r != nil {
			ctx = c.r.Context()
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return injected
}

func throttleError(service, msg string) *apiError {
	switch service {
	case "iam", "sts", "sns":
		return &apiError{Code: "Throttling", Message: msg, Status: 400}
	case "cloudwatch":
		return &apiError{Code: "Throttling", Message: msg, Status: 400}
	case "ec2":
		return &apiError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Status: 503}
	case "s3":
		return &apiError{Code: "SlowDown", Message: "Please reduce your request rate.", Status: 503}
	case "kinesis":
		return &apiError{Code: "LimitExceededException", Message: msg, Status: 400}
	default:
		return &apiError{Code: "ThrottlingException", Message: msg, Status: 400}
	}
}

func serverError(service string) *apiError {
	switch service {
	case "ec2", "s3":
		return &apiError{Code: "InternalError", Message: "We encountered an internal error. Please try again.", Status: 500, Fault: "Receiver"}
	default:
		return &apiError{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: 500, Fault: "Receiver"}
	}
}

func statusForCode(code string) int {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException":
		return 403
	case "NoSuchEntity", "NoSuchBucket", "NoSuchKey", "ResourceNotFound":
		return 404
	case "EntityAlreadyExists", "DeleteConflict", "BucketAlreadyExists", "BucketAlreadyOwnedByYou":
		return 409
	case "InternalFailure", "InternalError", "InternalFailureException", "ServiceFailureException":
		return 500
	case "ServiceUnavailable", "ServiceUnavailableException", "SlowDown", "RequestLimitExceeded":
		return 503
	}
	return 400
}
