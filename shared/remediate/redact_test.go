package remediate_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/remediate"
)

// Runtime properties that hold ordinary identifiers (the Region, the
// application's name and ARN, the account, the log group the MON.1 fix
// creates) do not blank those identifiers out of the audit; the planted
// credential next to them is still redacted everywhere.
func TestOrdinaryPropertiesDoNotRedactTheAudit(t *testing.T) {
	f := start(t)
	const name = "orders-enrichment"
	f.app(name, appOpts{})
	d := f.describe(name)
	arn := aws.ToString(d.ApplicationARN)
	group := "/aws/kinesis-analytics/" + name
	if _, err := f.c.KDA.UpdateApplication(f.ctx, &kinesisanalyticsv2.UpdateApplicationInput{ApplicationName: aws.String(name), ConditionalToken: d.ConditionalToken,
		ApplicationConfigurationUpdate: &kt.ApplicationConfigurationUpdate{EnvironmentPropertyUpdates: &kt.EnvironmentPropertyUpdates{PropertyGroups: []kt.PropertyGroup{
			{PropertyGroupId: aws.String("app"), PropertyMap: map[string]string{"aws.secret.access.key": planted, "aws.region": "us-east-1",
				"app.name": name, "app.arn": arn, "account": "123456789012", "log.group": group}}}}}}); err != nil {
		t.Fatal(err)
	}
	f.env.ResetJournal()
	out, err := f.executor(f.settings()).Converge(f.ctx, name)
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	if got := outcomes(out); got["KDA.RES.1"] != remediate.Verified {
		t.Errorf("outcomes %v", got)
	}
	f.noSecret()
	pub := f.env.Published()
	if len(pub) != 1 {
		t.Fatalf("%d notifications", len(pub))
	}
	for _, want := range []string{"Application: " + name + "\n", "Region: us-east-1\n", "Account: 123456789012\n",
		remediate.ConsoleURL("us-east-1", name), "kdaguard: " + name} {
		if !strings.Contains(pub[0].Message+pub[0].Subject, want) {
			t.Errorf("notification lacks %q:\n%s\n%s", want, pub[0].Subject, pub[0].Message)
		}
	}
	if strings.Contains(pub[0].Message, "[REDACTED]") {
		t.Errorf("notification redacted:\n%s", pub[0].Message)
	}
	updates, groups := 0, 0
	for _, l := range f.logs.lines(t) {
		if l["msg"] != "kdaguard remediation" {
			continue
		}
		if l["application"] != name || l["region"] != "us-east-1" || l["account"] != "123456789012" {
			t.Errorf("log line names %v %v %v", l["application"], l["region"], l["account"])
		}
		in, _ := l["input"].(map[string]any)
		if l["call"] == "kinesisanalyticsv2:UpdateApplication" && in != nil {
			updates++
			if in["ApplicationName"] != name {
				t.Errorf("UpdateApplication input names %v", in["ApplicationName"])
			}
		}
		if cg, ok := in["CreateLogGroup"].(map[string]any); ok {
			groups++
			if cg["LogGroupName"] != group {
				t.Errorf("CreateLogGroup input names %v", cg["LogGroupName"])
			}
		}
	}
	if updates == 0 || groups == 0 {
		t.Errorf("UpdateApplication lines %d, CreateLogGroup lines %d\n%s", updates, groups, f.logs.String())
	}
	for _, e := range f.env.Events() {
		if strings.Contains(e.Detail, `"application":"[REDACTED]"`) || strings.Contains(e.Detail, `"region":"[REDACTED]"`) {
			t.Errorf("event redacted: %s", e.Detail)
		}
	}
}
