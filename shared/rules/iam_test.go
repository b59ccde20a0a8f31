package rules_test

import (
	"testing"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

func withTrust(doc string) func(a *model.Application) {
	return func(a *model.Application) { setRole(a, func(r *model.Role) { r.Trust = policy(doc) }) }
}

func roleUnknown(a *model.Application) {
	a.Related.Role = model.Unknown[model.Role]("iam:GetRole: AccessDenied")
}

func trustUnknown(a *model.Application) {
	setRole(a, func(r *model.Role) {
		r.Trust = model.Unknown[model.PolicyDocument]("template: AssumeRolePolicyDocument is an import")
	})
}

func TestIAM1TrustPrincipals(t *testing.T) {
	runTable(t, "KDA.IAM.1", []ruleCase{
		{name: "service only, URL-encoded", want: rules.Compliant, contains: strs(roleName)},
		{name: "service only, console policy", want: rules.Compliant, mutate: withTrust(trustUnguarded)},
		{name: "service as a one-element list", want: rules.Compliant,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`)},
		{name: "deny statements are not trust", want: rules.Compliant,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}]}`)},
		{name: "statement without principal is ignored", want: rules.Compliant,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}},{"Effect":"Allow","Action":"sts:TagSession"}]}`)},
		{name: "principal *", want: rules.NonCompliant, failed: strs("trust-principals"), contains: strs("any principal", "trust only kinesisanalytics.amazonaws.com"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`)},
		{name: "AWS *", want: rules.NonCompliant, failed: strs("trust-principals"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)},
		{name: "another account", want: rules.NonCompliant, failed: strs("trust-principals"), contains: strs("arn:aws:iam::210987654321:root"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`)},
		{name: "same account root is still another principal", want: rules.NonCompliant, failed: strs("trust-principals"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`)},
		{name: "another service beside", want: rules.NonCompliant, failed: strs("trust-principals"), contains: strs("lambda.amazonaws.com"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["kinesisanalytics.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`)},
		{name: "federated", want: rules.NonCompliant, failed: strs("trust-principals"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)},
		{name: "canonical user", want: rules.NonCompliant, failed: strs("trust-principals"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"sts:AssumeRole"}]}`)},
		{name: "NotPrincipal", want: rules.NonCompliant, failed: strs("trust-principals"), contains: strs("NotPrincipal"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`)},
		{name: "several problems", want: rules.NonCompliant, failed: strs("trust-principals", "trust-principals", "trust-principals"),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::210987654321:root","*"],"Service":["kinesisanalytics.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`)},
		{name: "role unknown", want: rules.Unknown, mutate: roleUnknown, contains: strs("AccessDenied")},
		{name: "trust unknown", want: rules.Unknown, mutate: trustUnknown, contains: strs(roleName)},
	})
}

func TestIAM2ConfusedDeputy(t *testing.T) {
	wildcard := "arn:aws:kinesisanalytics:eu-west-1:123456789012:application/*"
	fix := func(arn string) []fixWant {
		return []fixWant{{Condition: "confused-deputy", Target: roleName,
			Args: map[string]string{"RoleName": roleName, "SourceAccount": acct, "SourceArn": arn}}}
	}
	runTable(t, "KDA.IAM.2", []ruleCase{
		{name: "SourceAccount and SourceArn", want: rules.Compliant},
		{name: "SourceAccount only", want: rules.Compliant,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`)},
		{name: "SourceArn only, ArnLike, key case-insensitive", want: rules.Compliant,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:sourcearn":"arn:aws:kinesisanalytics:eu-west-1:123456789012:application/*"}}}]}`)},
		{name: "unguarded, role serves this application: its ARN", want: rules.NonCompliant, failed: strs("confused-deputy"),
			fixes: fix(appARN), mutate: withTrust(trustUnguarded), contains: strs("aws:SourceAccount", roleName)},
		{name: "unguarded, role shared: every application of the account", want: rules.NonCompliant, failed: strs("confused-deputy"),
			fixes: fix(wildcard), mutate: func(a *model.Application) {
				withTrust(trustUnguarded)(a)
				a.Related.RoleUsers = model.Known([]string{appName, "payments-enricher"})
			}},
		{name: "unguarded, users unknown: every application of the account", want: rules.NonCompliant, failed: strs("confused-deputy"),
			fixes: fix(wildcard), mutate: func(a *model.Application) {
				withTrust(trustUnguarded)(a)
				a.Related.RoleUsers = model.Unknown[[]string]("kinesisanalytics:ListApplications: throttled")
			}},
		{name: "unguarded, no application ARN yet (template)", want: rules.NonCompliant, failed: strs("confused-deputy"),
			fixes: fix(wildcard), mutate: func(a *model.Application) {
				withTrust(trustUnguarded)(a)
				a.ARN = ""
			}},
		{name: "one of two service statements unguarded", want: rules.NonCompliant, failed: strs("confused-deputy"),
			fixes:  fix(appARN),
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Sid":"Guarded","Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}},{"Sid":"Tagging","Effect":"Allow","Principal":{"Service":"kinesisanalytics.amazonaws.com"},"Action":"sts:TagSession"}]}`)},
		{name: "statement without principal is not a service trust", want: rules.NotApplicable,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)},
		{name: "role does not trust the service", want: rules.NotApplicable,
			mutate: withTrust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)},
		{name: "role unknown", want: rules.Unknown, mutate: roleUnknown},
		{name: "trust unknown", want: rules.Unknown, mutate: trustUnknown},
	})
}

func withPolicies(inline []model.NamedPolicy, attached []model.NamedPolicy) func(a *model.Application) {
	return func(a *model.Application) {
		setRole(a, func(r *model.Role) {
			if inline != nil {
				r.Inline = model.Known(inline)
			}
			if attached != nil {
				r.Attached = model.Known(attached)
			}
		})
	}
}

func inline(doc string) []model.NamedPolicy {
	return []model.NamedPolicy{{Name: "orders-enricher-access", Document: policy(doc)}}
}

func TestIAM3LeastPrivilege(t *testing.T) {
	admin := model.NamedPolicy{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess",
		Document: policy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}
	power := model.NamedPolicy{Name: "PowerUserAccess", ARN: "arn:aws:iam::aws:policy/PowerUserAccess",
		Document: model.Unknown[model.PolicyDocument]("not read: AWS managed")}
	runTable(t, "KDA.IAM.3", []ruleCase{
		{name: "scoped policies", want: rules.Compliant},
		{name: "AdministratorAccess attached", want: rules.NonCompliant, failed: strs("broad-managed-policy"),
			contains: strs("AdministratorAccess"), mutate: withPolicies(nil, []model.NamedPolicy{admin})},
		{name: "PowerUserAccess attached (document not read)", want: rules.NonCompliant, failed: strs("broad-managed-policy"),
			mutate: withPolicies(nil, []model.NamedPolicy{power})},
		{name: "action * in an inline policy", want: rules.NonCompliant, failed: strs("wildcard-action"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::orders-enricher-code-123456789012/*"}]}`), nil)},
		{name: "NotAction", want: rules.NonCompliant, failed: strs("wildcard-action"), contains: strs("NotAction"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`), nil)},
		{name: "service:* on *", want: rules.NonCompliant, failed: strs("service-wildcard"), contains: strs("kinesis:*"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:*"],"Resource":"*"}]}`), nil)},
		{name: "service:* on named resources", want: rules.Compliant,
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":["arn:aws:kinesis:eu-west-1:123456789012:stream/orders"]}]}`), nil)},
		{name: "Deny * is not a grant", want: rules.Compliant,
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders-enricher-code-123456789012/*"}]}`), nil)},
		{name: "several: one per statement, admin and inline", want: rules.NonCompliant,
			failed: strs("broad-managed-policy", "wildcard-action", "service-wildcard"),
			mutate: withPolicies(inline(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`),
				[]model.NamedPolicy{admin})},
		{name: "attached policies unknown", want: rules.Unknown, contains: strs("attached policies"),
			mutate: func(a *model.Application) {
				setRole(a, func(r *model.Role) {
					r.Attached = model.Unknown[[]model.NamedPolicy]("iam:ListAttachedRolePolicies: AccessDenied")
				})
			}},
		{name: "inline policies unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				setRole(a, func(r *model.Role) {
					r.Inline = model.Unknown[[]model.NamedPolicy]("iam:ListRolePolicies: AccessDenied")
				})
			}},
		{name: "a managed policy document unknown", want: rules.Unknown, contains: strs("orders-enricher-vpc-access"),
			mutate: withPolicies(nil, []model.NamedPolicy{{Name: "orders-enricher-vpc-access", ARN: "arn:aws:iam::123456789012:policy/orders-enricher-vpc-access",
				Document: model.Unknown[model.PolicyDocument]("iam:GetPolicyVersion: AccessDenied")}})},
		{name: "unknown document and a failure: non-compliant", want: rules.NonCompliant, failed: strs("broad-managed-policy"),
			contains: strs("could not verify"),
			mutate: withPolicies(nil, []model.NamedPolicy{admin, {Name: "orders-enricher-vpc-access", ARN: "arn:aws:iam::123456789012:policy/orders-enricher-vpc-access",
				Document: model.Unknown[model.PolicyDocument]("iam:GetPolicyVersion: AccessDenied")}})},
		{name: "role unknown", want: rules.Unknown, mutate: roleUnknown},
	})
}

func TestIAM4RoleShared(t *testing.T) {
	runTable(t, "KDA.IAM.4", []ruleCase{
		{name: "this application only", want: rules.Compliant},
		{name: "template: the logical id", want: rules.Compliant, mutate: func(a *model.Application) {
			a.Origin = model.Origin{File: "template.yaml", LogicalID: "OrdersEnricher", Line: 42}
			a.Name = ""
			a.Related.RoleUsers = model.Known([]string{"OrdersEnricher"})
		}},
		{name: "shared with another", want: rules.NonCompliant, failed: strs("single-application"), contains: strs("payments-enricher"),
			mutate: func(a *model.Application) { a.Related.RoleUsers = model.Known([]string{appName, "payments-enricher"}) }},
		{name: "shared with many: list cut", want: rules.NonCompliant, failed: strs("single-application"),
			contains: strs("app-1", "app-5", "..."), absent: strs("app-6"),
			mutate: func(a *model.Application) {
				a.Related.RoleUsers = model.Known([]string{"app-1", "app-2", appName, "app-3", "app-4", "app-5", "app-6", "app-7"})
			}},
		{name: "users unknown", want: rules.Unknown,
			mutate: func(a *model.Application) {
				a.Related.RoleUsers = model.Unknown[[]string]("kinesisanalytics:ListApplications: AccessDeniedException")
			}},
	})
}
