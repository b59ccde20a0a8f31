package configeval

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kdaguard/kdaguard/shared/rules"
)

// Message types of an AWS Config custom rule's invoking event.
const (
	MsgChange    = "ConfigurationItemChangeNotification"
	MsgOversized = "OversizedConfigurationItemChangeNotification"
	MsgScheduled = "ScheduledNotification"
)

// Configuration item statuses that mean the resource is gone.
const (
	StatusDeleted            = "ResourceDeleted"
	StatusDeletedNotRecorded = "ResourceDeletedNotRecorded"
)

// AccountResourceType is what account-level results are reported against.
const AccountResourceType = "AWS::::Account"

// invokingEvent is the part of the invoking event the handler reads. The
// configuration item is used for identity only, never as state.
type invokingEvent struct {
	MessageType              string     `json:"messageType"`
	NotificationCreationTime string     `json:"notificationCreationTime"`
	AWSAccountID             string     `json:"awsAccountId"`
	ConfigurationItem        *itemIdent `json:"configurationItem"`
	ConfigurationItemSummary *itemIdent `json:"configurationItemSummary"`
}

// itemIdent is a configuration item (or its oversized summary) reduced to
// identity.
type itemIdent struct {
	ResourceType                 string `json:"resourceType"`
	ResourceID                   string `json:"resourceId"`
	ResourceName                 string `json:"resourceName"`
	ARN                          string `json:"ARN"`
	AWSAccountID                 string `json:"awsAccountId"`
	AWSRegion                    string `json:"awsRegion"`
	ConfigurationItemCaptureTime string `json:"configurationItemCaptureTime"`
	ConfigurationItemStatus      string `json:"configurationItemStatus"`
}

// item returns the configuration item of a change notification: the full
// item, else the oversized notification's summary.
func (e *invokingEvent) item() *itemIdent {
	if e.ConfigurationItem != nil {
		return e.ConfigurationItem
	}
	return e.ConfigurationItemSummary
}

// deleted reports whether the item says the resource is gone.
func (it *itemIdent) deleted() bool {
	return it.ConfigurationItemStatus == StatusDeleted || it.ConfigurationItemStatus == StatusDeletedNotRecorded
}

// id is the resource id: for an application, its name.
func (it *itemIdent) id() string {
	if it.ResourceID != "" {
		return it.ResourceID
	}
	return it.ResourceName
}

func decodeInvokingEvent(s string) (*invokingEvent, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("invokingEvent is empty")
	}
	var e invokingEvent
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return nil, fmt.Errorf("invokingEvent is not valid JSON: %w", err)
	}
	switch e.MessageType {
	case MsgChange, MsgOversized:
		it := e.item()
		if it == nil {
			field := "configurationItem"
			if e.MessageType == MsgOversized {
				field = "configurationItemSummary"
			}
			return nil, fmt.Errorf("invokingEvent: %s without %s", e.MessageType, field)
		}
		if it.ResourceType == "" || it.id() == "" {
			return nil, fmt.Errorf("invokingEvent: %s names no resourceType and resourceId", e.MessageType)
		}
	case MsgScheduled:
	case "":
		return nil, errors.New("invokingEvent has no messageType")
	default:
		return nil, fmt.Errorf("invokingEvent: unsupported messageType %q (want %s, %s or %s)", e.MessageType, MsgChange, MsgOversized, MsgScheduled)
	}
	return &e, nil
}

// orderingTime is the item's capture time, else the notification's creation
// time, else fallback.
func (e *invokingEvent) orderingTime(fallback time.Time) time.Time {
	if it := e.item(); it != nil {
		if t, ok := parseTime(it.ConfigurationItemCaptureTime); ok {
			return t
		}
	}
	if t, ok := parseTime(e.NotificationCreationTime); ok {
		return t
	}
	return fallback
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	// Config also writes epoch milliseconds in some records.
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 0 {
		return time.UnixMilli(ms).UTC(), true
	}
	return time.Time{}, false
}

// RuleConfig is the rule a Config rule runs, from its ruleParameters.
type RuleConfig struct {
	Rule      *rules.Rule
	Selection *rules.Selection
	Params    map[string]string // the overrides as given (ruleId excluded)
}

// DecodeRuleParameters reads ruleParameters: "ruleId" (required) and the
// rule's parameter overrides, validated by the catalog. Values are strings
// as the Config console writes them; numbers and booleans are taken as
// their JSON text. Every problem is an error that names the parameter.
func DecodeRuleParameters(s string) (*RuleConfig, error) {
	raw := map[string]json.RawMessage{}
	if strings.TrimSpace(s) != "" {
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, fmt.Errorf("ruleParameters is not a JSON object: %w", err)
		}
	}
	vals := make(map[string]string, len(raw))
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := raw[k]
		var str string
		if err := json.Unmarshal(v, &str); err == nil {
			vals[k] = str
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, fmt.Errorf("ruleParameters: parameter %s: %w", k, err)
		}
		switch x.(type) {
		case float64, bool:
			vals[k] = strings.TrimSpace(string(v))
		default:
			return nil, fmt.Errorf("ruleParameters: parameter %s must be a string, not %s", k, strings.TrimSpace(string(v)))
		}
	}
	id := strings.TrimSpace(vals["ruleId"])
	if id == "" {
		return nil, errors.New(`ruleParameters: "ruleId" is required (e.g. {"ruleId":"KDA.RES.1"})`)
	}
	r, ok := rules.ByID(id)
	if !ok {
		return nil, fmt.Errorf("ruleParameters: ruleId %q is not a kdaguard rule", id)
	}
	delete(vals, "ruleId")
	sel, err := rules.Select([]*rules.Rule{r}, map[string]map[string]string{r.ID: vals})
	if err != nil {
		return nil, fmt.Errorf("ruleParameters: %w", err)
	}
	return &RuleConfig{Rule: r, Selection: sel, Params: vals}, nil
}

// decodeEvent checks the envelope and decodes both JSON strings.
func decodeEvent(ev events.ConfigEvent) (*invokingEvent, *RuleConfig, error) {
	rc, err := DecodeRuleParameters(ev.RuleParameters)
	if err != nil {
		return nil, nil, err
	}
	ie, err := decodeInvokingEvent(ev.InvokingEvent)
	if err != nil {
		return nil, nil, err
	}
	if ev.ResultToken == "" {
		return nil, nil, errors.New("event has no resultToken")
	}
	return ie, rc, nil
}
