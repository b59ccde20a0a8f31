package rules

import (
	"regexp"
	"slices"
	"strings"

	"github.com/kdaguard/kdaguard/shared/model"
)

const docBase = "https://docs.aws.amazon.com/managed-flink/latest/java/"

// kmsKeyID is a KMS key id, key ARN, alias name or alias ARN.
var kmsKeyID = regexp.MustCompile(`^(alias/[A-Za-z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+|(mrk-)?[0-9a-fA-F-]{32,36})$`)

// Service principals that a customer managed key for application state must allow.
var statePrincipals = []string{"kinesisanalytics.amazonaws.com", "infrastructure.kinesisanalytics.amazonaws.com"}

func init() {
	register(&Rule{
		ID:        "KDA.DP.1",
		Title:     "Application state is encrypted with a customer managed KMS key",
		Topic:     TopicDataProtection,
		Severity:  Medium,
		Rationale: "Checkpoints and snapshots hold the application's state. With a customer managed key you control, audit and can revoke access to it; an AWS owned key gives you none of that.",
		Doc:       docBase + "key-management-flink.html",
		NIST:      []string{"SC-12", "SC-28"},
		PCI:       []string{"3.6", "3.7"},
		Check:     checkStateKey,
	})
	register(&Rule{
		ID:        "KDA.DP.2",
		Title:     "The state encryption key is enabled, symmetric, rotated, and allows both service principals",
		Topic:     TopicDataProtection,
		Severity:  Medium,
		Rationale: "A disabled or asymmetric key, or one whose policy does not allow kinesisanalytics.amazonaws.com and infrastructure.kinesisanalytics.amazonaws.com, makes the application fail; key rotation is the customer's job.",
		Doc:       docBase + "key-management-flink.html",
		NIST:      []string{"SC-12", "SC-12(2)"},
		PCI:       []string{"3.6", "3.7"},
		Needs:     []model.Facet{model.FacetKey},
		Remediation: Remediation{Kind: RemediationAuto, Call: "kms:EnableKeyRotation",
			Description: "Enable automatic rotation of the key (rotation only; state, spec and key policy are reported)."},
		Check: checkKeyHealth,
	})
	register(&Rule{
		ID:        "KDA.DP.3",
		Title:     "Kinesis streams the application reads or writes are encrypted at rest",
		Topic:     TopicDataProtection,
		Severity:  High,
		Rationale: "The guide asks that sources and destinations encrypt all data at rest. SQL applications name their streams; for Flink they are inferred from the execution role's Kinesis permissions and runtime properties.",
		Doc:       docBase + "data-protection.html",
		NIST:      []string{"SC-28"},
		PCI:       []string{"3.5.1"},
		Needs:     []model.Facet{model.FacetRole, model.FacetStreams},
		Params: []Param{{Name: "streamKeyId", Type: TypeString, Default: "alias/aws/kinesis", Pattern: kmsKeyID,
			Description: "KMS key the fix encrypts an unencrypted stream with."}},
		Remediation: Remediation{Kind: RemediationOptIn, Call: "kinesis:StartStreamEncryption",
			Description: "Start server-side encryption of each unencrypted stream with the configured key (producers need kms:GenerateDataKey on it)."},
		Check: checkStreams,
	})
	register(&Rule{
		ID:        "KDA.DP.4",
		Title:     "The code bucket blocks public access and is encrypted, and the code object is pinned to a version",
		Topic:     TopicDataProtection,
		Severity:  High,
		Rationale: "Whoever can write or replace the code object runs code with the application's role. A public or unencrypted bucket, or an unpinned object, lets the code change under the application.",
		Doc:       docBase + "security-best-practices.html",
		NIST:      []string{"AC-3", "AC-21", "SC-28"},
		PCI:       []string{"3.5.1"},
		Needs:     []model.Facet{model.FacetBucket},
		Remediation: Remediation{Kind: RemediationOptIn, Call: "s3:PutPublicAccessBlock",
			Description: "Turn on all four public access block settings of the code bucket (the bucket may be shared: opt-in)."},
		Check: checkCodeBucket,
	})
}

func checkStateKey(in Input) Result {
	a := in.App
	if a.IsSQL() {
		return notApplicable("SQL applications have no configurable state encryption")
	}
	enc, ok := a.Encryption.Get()
	if !ok {
		return unknown("encryption configuration", a.Encryption.Reason())
	}
	if enc.KeyType == model.KeyTypeCustomerManaged {
		return pass("application state is encrypted with customer managed key " + enc.KeyID)
	}
	return fail("application state uses an AWS owned key: set ApplicationEncryptionConfiguration KeyType CUSTOMER_MANAGED_KEY with a KMS key you manage", "customer-managed-key")
}

func checkKeyHealth(in Input) Result {
	a := in.App
	enc, ok := a.Encryption.Get()
	if !ok {
		return unknown("encryption configuration", a.Encryption.Reason())
	}
	if enc.KeyType != model.KeyTypeCustomerManaged {
		return notApplicable("application state does not use a customer managed key (see KDA.DP.1)")
	}
	key, ok := a.Related.Key.Get()
	if !ok {
		return unknown("KMS key "+enc.KeyID, a.Related.Key.Reason())
	}
	var v verdict
	switch key.State {
	case "":
		v.unknown("key state", "not reported by kms:DescribeKey")
	case "Enabled":
		v.hold("enabled")
	default:
		v.fail("enabled", "key "+key.ID+" is "+key.State+": enable it")
	}
	switch key.Spec {
	case "":
		v.unknown("key spec", "not reported by kms:DescribeKey")
	case "SYMMETRIC_DEFAULT":
		v.hold("symmetric")
	default:
		v.fail("symmetric", "key spec is "+key.Spec+": use a SYMMETRIC_DEFAULT key")
	}
	if rot, ok := key.Rotation.Get(); !ok {
		v.unknown("key rotation", key.Rotation.Reason())
	} else if rot {
		v.hold("rotation")
	} else if key.State != "Enabled" || key.Spec != "SYMMETRIC_DEFAULT" {
		// KMS refuses EnableKeyRotation on a key that is not an enabled
		// symmetric key: report only.
		v.fail("rotation", "automatic key rotation is off (it can be enabled only on an enabled symmetric key)")
	} else {
		target := key.ARN
		if target == "" {
			target = key.ID
		}
		v.fix("rotation", "automatic key rotation is off: enable it", Fix{Target: target,
			Summary: "EnableKeyRotation on " + target, Args: map[string]string{"KeyId": target}})
	}
	if pol, ok := key.Policy.Get(); !ok {
		v.unknown("key policy", key.Policy.Reason())
	} else {
		for _, p := range statePrincipals {
			if missing := keyPolicyMissing(pol, p); len(missing) > 0 {
				v.fail("key-policy", "key policy does not allow "+p+" "+strings.Join(missing, ", "))
			}
		}
	}
	return v.result("key " + key.ID + " is enabled, symmetric, rotated and allows both service principals")
}

// stateKeyActions are what the service principals need on the state key.
var stateKeyActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// keyPolicyMissing lists the actions of stateKeyActions that no Allow
// statement grants the service principal (or any principal), or that an
// unconditional Deny statement takes from it. Actions may be split over
// statements and matched by wildcards (kms:*, kms:GenerateDataKey*, *).
func keyPolicyMissing(doc model.PolicyDocument, service string) []string {
	var missing []string
	for _, action := range stateKeyActions {
		allowed, denied := false, false
		for _, st := range doc.Statement {
			if st.Principal == nil || !namesService(st.Principal, service) || !matchesAction(st, action) {
				continue
			}
			switch st.Effect {
			case "Allow":
				allowed = true
			case "Deny":
				denied = denied || len(st.Condition) == 0
			}
		}
		if !allowed || denied {
			missing = append(missing, action)
		}
	}
	return missing
}

// namesService reports whether a principal is the service or anyone.
func namesService(p *model.Principal, service string) bool {
	if p.Any || slices.Contains(p.AWS, "*") {
		return true
	}
	return slices.ContainsFunc(p.Service, func(s string) bool { return strings.EqualFold(s, service) })
}

// matchesAction reports whether a statement's Action (or NotAction) covers action.
func matchesAction(st model.Statement, action string) bool {
	if len(st.NotAction) > 0 {
		return !slices.ContainsFunc(st.NotAction, func(a string) bool { return model.WildcardMatch(a, action) })
	}
	return slices.ContainsFunc(st.Action, func(a string) bool { return model.WildcardMatch(a, action) })
}

func checkStreams(in Input) Result {
	a := in.App
	arns, complete, reason := a.KinesisStreams()
	if len(arns) == 0 {
		if complete {
			return notApplicable("the application reads and writes no Kinesis data stream")
		}
		return unknown("the streams the application uses", reason)
	}
	var v verdict
	for _, arn := range arns {
		name := model.StreamName(arn)
		st, ok := a.Related.Streams[arn].Get()
		switch {
		case !ok:
			v.unknown("stream "+name, a.Related.Streams[arn].Reason())
		case st.EncryptionType == "KMS":
			v.hold("encryption:" + arn)
		default:
			v.fix("encryption:"+arn, "stream "+name+" is not encrypted at rest", Fix{Target: arn,
				Summary: "StartStreamEncryption on " + name + " with " + in.Params.String("streamKeyId"),
				Args: map[string]string{"StreamARN": arn, "StreamName": name, "EncryptionType": "KMS",
					"KeyId": in.Params.String("streamKeyId")}})
		}
	}
	if !complete {
		v.unknown("other streams", reason)
	}
	return v.result("every Kinesis stream the application uses is encrypted at rest")
}

func checkCodeBucket(in Input) Result {
	a := in.App
	code, ok := a.Code.Get()
	if !ok {
		return unknown("code location", a.Code.Reason())
	}
	if code.Bucket == "" {
		return notApplicable("the application code is not stored in S3")
	}
	var v verdict
	pinned := func() {
		if code.ObjectVersion == "" {
			v.fail("object-version", "code object "+code.FileKey+" is not pinned: set ObjectVersion")
		}
	}
	b, ok := a.Related.Bucket.Get()
	if !ok {
		// The object version is known without the bucket: still report it.
		v.unknown("code bucket "+code.Bucket, a.Related.Bucket.Reason())
		pinned()
		return v.result("")
	}
	if pab, ok := b.PublicAccessBlock.Get(); !ok {
		v.unknown("public access block", b.PublicAccessBlock.Reason())
	} else if pab.All() {
		v.hold("public-access-block")
	} else {
		v.fix("public-access-block", "bucket "+b.Name+" does not block all public access", Fix{Target: b.Name,
			Summary: "PutPublicAccessBlock on " + b.Name + " with all four settings on",
			Args:    map[string]string{"Bucket": b.Name}})
	}
	if pub, ok := b.PolicyPublic.Get(); !ok {
		v.unknown("bucket policy status", b.PolicyPublic.Reason())
	} else if pub {
		v.fail("public-policy", "bucket policy of "+b.Name+" makes it public")
	}
	if enc, ok := b.Encryption.Get(); !ok {
		v.unknown("default encryption", b.Encryption.Reason())
	} else if enc == "" {
		v.fail("default-encryption", "bucket "+b.Name+" has no default encryption")
	}
	pinned()
	return v.result("code bucket " + b.Name + " blocks public access, is encrypted, and the code object is pinned")
}
