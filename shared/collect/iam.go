package collect

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/model"
)

// parallel runs the functions concurrently and waits for all of them. The
// API calls inside stay within the session's bound.
func parallel(fns ...func()) {
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	wg.Wait()
}

// each runs f for every element concurrently and waits.
func each[T any](items []T, f func(int, T)) {
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, it)
		}()
	}
	wg.Wait()
}

// readEach reads one fact per key concurrently (the API calls stay within
// the session's bound) and returns them by key.
func readEach[T any](keys []string, read func(key string) model.Fact[T]) map[string]model.Fact[T] {
	facts := make([]model.Fact[T], len(keys))
	each(keys, func(i int, k string) { facts[i] = read(k) })
	out := make(map[string]model.Fact[T], len(keys))
	for i, k := range keys {
		out[k] = facts[i]
	}
	return out
}

// roleName is the last path segment of a role ARN.
func roleName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func parsed(doc string) model.Fact[model.PolicyDocument] {
	p, err := model.ParsePolicy(doc)
	if err != nil {
		return model.Unknown[model.PolicyDocument](err.Error())
	}
	return model.Known(p)
}

// role reads the execution role: GetRole (trust policy), its inline policies
// (ListRolePolicies, GetRolePolicy) and attached managed policies
// (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion of the default
// version). Once per role per session.
func (s *Session) role(ctx context.Context, app *model.Application) model.Fact[model.Role] {
	arn, ok := app.RoleARN.Get()
	if !ok {
		return model.Unknown[model.Role]("execution role ARN: " + app.RoleARN.Reason())
	}
	if arn == "" {
		return model.Unknown[model.Role]("the application has no service execution role")
	}
	r, err := once(ctx, s, "iam:role:"+arn, func(ctx context.Context) (model.Role, error) {
		name := roleName(arn)
		role := model.Role{ARN: arn, Name: name}
		var getErr error
		parallel(
			func() {
				out, err := call(ctx, s, func(ctx context.Context) (*iam.GetRoleOutput, error) {
					return s.c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
				})
				if err != nil {
					getErr = s.fail(ctx, "iam:GetRole", arn, err)
					return
				}
				if out.Role == nil {
					getErr = s.fail(ctx, "iam:GetRole", arn, errors.New("no Role in the response"))
					return
				}
				if a := aws.ToString(out.Role.Arn); a != "" {
					role.ARN = a
				}
				if doc := aws.ToString(out.Role.AssumeRolePolicyDocument); doc != "" {
					role.Trust = parsed(doc)
				} else {
					role.Trust = model.Unknown[model.PolicyDocument]("GetRole returned no trust policy")
				}
			},
			func() { role.Inline = s.inlinePolicies(ctx, arn, name) },
			func() { role.Attached = s.attachedPolicies(ctx, arn, name) },
		)
		if getErr != nil {
			if isNotFound(getErr) {
				return model.Role{}, errors.New("role " + arn + " does not exist")
			}
			return model.Role{}, getErr
		}
		return role, nil
	})
	if err != nil {
		return model.Unknown[model.Role](why(err))
	}
	return model.Known(r)
}

func (s *Session) inlinePolicies(ctx context.Context, arn, name string) model.Fact[[]model.NamedPolicy] {
	var names []string
	p := iam.NewListRolePoliciesPaginator(s.c.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for p.HasMorePages() {
		page, err := call(ctx, s, func(ctx context.Context) (*iam.ListRolePoliciesOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return model.Unknown[[]model.NamedPolicy](why(s.fail(ctx, "iam:ListRolePolicies", arn, err)))
		}
		names = append(names, page.PolicyNames...)
	}
	out := make([]model.NamedPolicy, len(names))
	each(names, func(i int, pn string) {
		out[i] = model.NamedPolicy{Name: pn}
		res, err := call(ctx, s, func(ctx context.Context) (*iam.GetRolePolicyOutput, error) {
			return s.c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		})
		if err != nil {
			out[i].Document = model.Unknown[model.PolicyDocument](why(s.fail(ctx, "iam:GetRolePolicy", arn, err)))
			return
		}
		out[i].Document = parsed(aws.ToString(res.PolicyDocument))
	})
	return model.Known(out)
}

func (s *Session) attachedPolicies(ctx context.Context, arn, name string) model.Fact[[]model.NamedPolicy] {
	var out []model.NamedPolicy
	p := iam.NewListAttachedRolePoliciesPaginator(s.c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for p.HasMorePages() {
		page, err := call(ctx, s, func(ctx context.Context) (*iam.ListAttachedRolePoliciesOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return model.Unknown[[]model.NamedPolicy](why(s.fail(ctx, "iam:ListAttachedRolePolicies", arn, err)))
		}
		for _, ap := range page.AttachedPolicies {
			out = append(out, model.NamedPolicy{Name: aws.ToString(ap.PolicyName), ARN: aws.ToString(ap.PolicyArn)})
		}
	}
	if out == nil {
		out = []model.NamedPolicy{}
	}
	each(out, func(i int, np model.NamedPolicy) {
		out[i].Document = s.managedPolicy(ctx, np.ARN)
	})
	return model.Known(out)
}

// managedPolicy reads a managed policy's default version, once per policy
// per session (managed policies are often attached to many roles).
func (s *Session) managedPolicy(ctx context.Context, arn string) model.Fact[model.PolicyDocument] {
	doc, err := once(ctx, s, "iam:policy:"+arn, func(ctx context.Context) (model.Fact[model.PolicyDocument], error) {
		pol, err := call(ctx, s, func(ctx context.Context) (*iam.GetPolicyOutput, error) {
			return s.c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		})
		if err != nil {
			return model.Fact[model.PolicyDocument]{}, s.fail(ctx, "iam:GetPolicy", arn, err)
		}
		if pol.Policy == nil || aws.ToString(pol.Policy.DefaultVersionId) == "" {
			return model.Unknown[model.PolicyDocument]("GetPolicy returned no default version"), nil
		}
		ver, err := call(ctx, s, func(ctx context.Context) (*iam.GetPolicyVersionOutput, error) {
			return s.c.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
		})
		if err != nil {
			return model.Fact[model.PolicyDocument]{}, s.fail(ctx, "iam:GetPolicyVersion", arn, err)
		}
		if ver.PolicyVersion == nil {
			return model.Unknown[model.PolicyDocument]("GetPolicyVersion returned no version"), nil
		}
		return parsed(aws.ToString(ver.PolicyVersion.Document)), nil
	})
	if err != nil {
		return model.Unknown[model.PolicyDocument](why(err))
	}
	return doc
}

// roleUsers finds the applications whose execution role is this one's:
// ListApplications and DescribeApplication of every other application, both
// once per session, so a sweep lists and describes each application once.
func (s *Session) roleUsers(ctx context.Context, app *model.Application) model.Fact[[]string] {
	arn, ok := app.RoleARN.Get()
	if !ok {
		return model.Unknown[[]string]("execution role ARN: " + app.RoleARN.Reason())
	}
	if arn == "" {
		return model.Unknown[[]string]("the application has no service execution role")
	}
	list, err := s.listApplications(ctx)
	if err != nil {
		return model.Unknown[[]string]("applications using the role: " + why(err))
	}
	var others []types.ApplicationSummary
	for _, sum := range list {
		if aws.ToString(sum.ApplicationName) != app.Name {
			others = append(others, sum)
		}
	}
	same := make([]bool, len(others))
	errs := make([]error, len(others))
	each(others, func(i int, sum types.ApplicationSummary) {
		d, err := s.describe(ctx, aws.ToString(sum.ApplicationName))
		switch {
		case err != nil && isNotFound(err):
			// Deleted since the list: it uses no role any more.
		case err != nil:
			errs[i] = err
		default:
			same[i] = strings.EqualFold(aws.ToString(d.ServiceExecutionRole), arn)
		}
	})
	users := []string{app.Name}
	for i, sum := range others {
		if errs[i] != nil {
			return model.Unknown[[]string]("applications using the role: " + why(errs[i]))
		}
		if same[i] {
			users = append(users, aws.ToString(sum.ApplicationName))
		}
	}
	slices.Sort(users)
	return model.Known(users)
}
