package rules

import (
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

func init() {
	register(&Rule{
		ID:        "KDA.DP.5",
		Title:     "No plaintext credentials in runtime properties",
		Topic:     TopicBestPractices,
		Severity:  Critical,
		Rationale: "\"You should not store AWS credentials directly in the application.\" Runtime properties are readable by anyone who can describe the application; keep secrets in Secrets Manager or SSM Parameter Store and put only their ARN or name in the properties.",
		Doc:       docBase + "security-best-practices.html",
		NIST:      []string{"IA-5(7)", "SC-28"},
		PCI:       []string{"8.3.2", "8.6.2"},
		Check:     checkSecrets,
	})
}

// SecretRef names a runtime property that holds a plaintext credential
// (never its value). The detector lives in model, shared with stream
// inference.
type SecretRef = model.SecretRef

// FindSecrets returns the runtime properties that hold plaintext credentials,
// sorted by group and key.
func FindSecrets(groups []model.PropertyGroup) []SecretRef {
	return model.FindSecrets(groups)
}

func checkSecrets(in Input) Result {
	groups, ok := in.App.Properties.Get()
	if !ok {
		return unknown("runtime properties", in.App.Properties.Reason())
	}
	found := FindSecrets(groups)
	if len(found) == 0 {
		return pass("no plaintext credential in runtime properties")
	}
	var b strings.Builder
	b.WriteString("plaintext credentials in runtime properties, move them to Secrets Manager and reference the ARN:")
	failed := make([]string, 0, len(found))
	for i, f := range found {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" " + f.Group + "/" + f.Key + " (" + f.Kind + ")")
		failed = append(failed, "secret:"+f.Group+"/"+f.Key)
	}
	return Result{Status: NonCompliant, Message: Clip(b.String()), Failed: failed}
}
