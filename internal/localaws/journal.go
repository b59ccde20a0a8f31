package localaws

import "time"

// Entry is one request seen by the emulator.
type Entry struct {
	Time      time.Time         `json:"time"`
	Service   string            `json:"service"`   // SDK module name, e.g. "kinesisanalyticsv2", "iam", "cloudwatchlogs"
	Operation string            `json:"operation"` // API operation name, e.g. "UpdateApplication"
	Params    map[string]string `json:"params,omitempty"`
	Status    int               `json:"status"`
	ErrorCode string            `json:"errorCode,omitempty"`
	Duration  time.Duration     `json:"duration"`
	RequestID string            `json:"requestId"`
}

// Journal returns a copy of every request seen since the start or the last
// ResetJournal, oldest first.
func (s *Server) Journal() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, len(s.journal))
	copy(out, s.journal)
	return out
}

// Count returns how many calls (successful and failed, faults included) were
// made to service/operation. Service accepts the SDK module name or the
// signing name ("kinesisanalytics", "config", "logs", "monitoring",
// "events"); "" or "*" matches any service or operation.
func (s *Server) Count(service, operation string) int {
	service = canonicalService(service)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.journal {
		if matches(service, e.Service) && matches(operation, e.Operation) {
			n++
		}
	}
	return n
}

// CountErrors is like Count but only counts failed calls, optionally with a
// given error code ("" = any).
func (s *Server) CountErrors(service, operation, errorCode string) int {
	service = canonicalService(service)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.journal {
		if e.ErrorCode != "" && matches(service, e.Service) && matches(operation, e.Operation) && (errorCode == "" || errorCode == e.ErrorCode) {
			n++
		}
	}
	return n
}

// ResetJournal empties the journal (state is kept).
func (s *Server) ResetJournal() {
	s.mu.Lock()
	s.journal = nil
	s.mu.Unlock()
}

func matches(pattern, v string) bool { return pattern == "" || pattern == "*" || pattern == v }

// serviceAliases maps signing names and other spellings to SDK module names.
var serviceAliases = map[string]string{
	"kinesisanalytics":   "kinesisanalyticsv2",
	"kinesisanalyticsv2": "kinesisanalyticsv2",
	"config":             "configservice",
	"configservice":      "configservice",
	"iam":                "iam",
	"ec2":                "ec2",
	"logs":               "cloudwatchlogs",
	"cloudwatchlogs":     "cloudwatchlogs",
	"kms":                "kms",
	"s3":                 "s3",
	"kinesis":            "kinesis",
	"cloudtrail":         "cloudtrail",
	"monitoring":         "cloudwatch",
	"cloudwatch":         "cloudwatch",
	"sns":                "sns",
	"events":             "eventbridge",
	"eventbridge":        "eventbridge",
	"sts":                "sts",
}

func canonicalService(s string) string {
	if c, ok := serviceAliases[s]; ok {
		return c
	}
	return s
}
