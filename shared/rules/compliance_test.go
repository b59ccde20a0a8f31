package rules_test

import (
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func recorders(rs ...model.Recorder) func(a *model.Application) {
	return func(a *model.Application) { a.Related.Recorders = model.Known(rs) }
}

func TestCMP1Recorder(t *testing.T) {
	const typ = "AWS::KinesisAnalyticsV2::Application"
	runTable(t, "KDA.CMP.1", []ruleCase{
		{name: "all supported, recording", want: rules.Compliant, contains: strs("default")},
		{name: "type listed, recording", want: rules.Compliant,
			mutate: recorders(model.Recorder{Name: "default", Recording: true,
				ResourceTypes: []string{"AWS::IAM::Role", typ, "AWS::KMS::Key"}})},
		{name: "no recorder", want: rules.NonCompliant, failed: strs("recorder"), contains: strs(typ), mutate: recorders()},
		{name: "covers but stopped", want: rules.NonCompliant, failed: strs("recording"), contains: strs("start"),
			mutate: recorders(model.Recorder{Name: "default", AllSupported: true})},
		{name: "type not listed", want: rules.NonCompliant, failed: strs("recorded-type"),
			mutate: recorders(model.Recorder{Name: "default", Recording: true, ResourceTypes: []string{"AWS::EC2::SecurityGroup"}})},
		{name: "all supported but type excluded", want: rules.NonCompliant, failed: strs("recorded-type"),
			mutate: recorders(model.Recorder{Name: "default", Recording: true, AllSupported: true, Exclusions: []string{typ}})},
		{name: "recorders unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Related.Recorders = model.Unknown[[]model.Recorder]("config:DescribeConfigurationRecorders: AccessDenied")
			}},
	})
}
