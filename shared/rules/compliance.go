package rules

import (
	"slices"

	"github.com/kdaguard/kdaguard/shared/model"
)

// ResourceType is the AWS Config type of an application.
const ResourceType = "AWS::KinesisAnalyticsV2::Application"

func init() {
	register(&Rule{
		ID:        "KDA.CMP.1",
		Title:     "AWS Config records AWS::KinesisAnalyticsV2::Application",
		Topic:     TopicCompliance,
		Severity:  Low,
		Rationale: "Compliance validation rests on AWS Config: without recording the type there is no configuration history and no Config rule evaluates on change.",
		Doc:       docBase + "akda-java-compliance.html",
		NIST:      []string{"CM-8", "CA-7"},
		PCI:       []string{"12.5.1"},
		Needs:     []model.Facet{model.FacetRecorders},
		Scope:     ScopeAccount,
		Check:     checkRecorder,
	})
}

func checkRecorder(in Input) Result {
	recs, ok := in.App.Related.Recorders.Get()
	if !ok {
		return unknown("AWS Config recorders", in.App.Related.Recorders.Reason())
	}
	if len(recs) == 0 {
		return fail("AWS Config has no configuration recorder in this Region: set one up recording "+ResourceType, "recorder")
	}
	// Accounts can have several recorders (service-linked ones too): any one
	// that covers the type and is recording is enough.
	stopped := ""
	for _, r := range recs {
		covers := r.AllSupported && !slices.Contains(r.Exclusions, ResourceType) || slices.Contains(r.ResourceTypes, ResourceType)
		switch {
		case covers && r.Recording:
			return pass("recorder " + r.Name + " records " + ResourceType)
		case covers && stopped == "":
			stopped = r.Name
		}
	}
	if stopped != "" {
		return fail("recorder "+stopped+" covers "+ResourceType+" but is not recording: start it", "recording")
	}
	return fail("no AWS Config recorder includes "+ResourceType+": add it to the recording group", "recorded-type")
}
