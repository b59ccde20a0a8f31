package remediate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// loggingCalls is MON.1's fix: three calls in order.
type loggingCalls struct {
	CreateLogGroup                        *cloudwatchlogs.CreateLogGroupInput
	CreateLogStream                       *cloudwatchlogs.CreateLogStreamInput
	AddApplicationCloudWatchLoggingOption *kinesisanalyticsv2.AddApplicationCloudWatchLoggingOptionInput
}

// tokenFromUpdate stands for the token the merged UpdateApplication returns.
const tokenFromUpdate = "(ConditionalToken returned by the UpdateApplication above)"

// loggingInput plans MON.1, or says why it must be reported instead: the
// role must be able to write to the stream, or the application would log
// nowhere while looking compliant.
func (e *Executor) loggingInput(app *model.Application, fx rules.Fix, afterUpdate bool) (*loggingCalls, string) {
	group, stream := fx.Args["LogGroupName"], fx.Args["LogStreamName"]
	if group == "" || stream == "" {
		return nil, "no log group or stream name in the fix"
	}
	arn := fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:log-stream:%s", partition(app), app.Region, app.Account, group, stream)
	add := &kinesisanalyticsv2.AddApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String(app.Name),
		CloudWatchLoggingOption: &kt.CloudWatchLoggingOption{LogStreamARN: aws.String(arn)}}
	switch {
	case afterUpdate:
		add.ConditionalToken = aws.String(tokenFromUpdate)
	case app.ConditionalToken != "":
		add.ConditionalToken = aws.String(app.ConditionalToken)
	default:
		add.CurrentApplicationVersionId = aws.Int64(app.VersionID)
	}
	calls := &loggingCalls{
		CreateLogGroup:                        &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)},
		CreateLogStream:                       &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)},
		AddApplicationCloudWatchLoggingOption: add,
	}
	role, ok := app.Related.Role.Get()
	if !ok {
		return calls, "the execution role's permissions could not be read (" + app.Related.Role.Reason() + ")"
	}
	if allowed, why := roleAllows(role, "logs:PutLogEvents", arn); !allowed {
		return calls, "role " + role.Name + " " + why + ": grant it, then the fix applies"
	}
	return calls, ""
}

func partition(app *model.Application) string {
	if app.Partition != "" {
		return app.Partition
	}
	return "aws"
}

// roleAllows evaluates the role's identity policies for one action on one
// resource: an explicit deny wins; an allow with conditions is not counted
// (they cannot be evaluated here), so the answer errs on "not allowed".
func roleAllows(role model.Role, action, resource string) (bool, string) {
	var docs []model.PolicyDocument
	for _, set := range []struct {
		what string
		f    model.Fact[[]model.NamedPolicy]
	}{{"inline policies", role.Inline}, {"attached policies", role.Attached}} {
		ps, ok := set.f.Get()
		if !ok {
			return false, set.what + " could not be read (" + set.f.Reason() + ")"
		}
		for _, p := range ps {
			d, ok := p.Document.Get()
			if !ok {
				return false, "policy " + p.Name + " could not be read (" + p.Document.Reason() + ")"
			}
			docs = append(docs, d)
		}
	}
	allowed := false
	for _, d := range docs {
		for _, st := range d.Statement {
			if !actionMatches(st, action) || !resourceMatches(st, resource) {
				continue
			}
			if strings.EqualFold(st.Effect, "Deny") {
				return false, "is denied " + action + " on " + resource
			}
			if st.Allows(action) && len(st.Condition) == 0 {
				allowed = true
			}
		}
	}
	if !allowed {
		return false, "lacks " + action + " on " + resource
	}
	return true, ""
}

func actionMatches(st model.Statement, action string) bool {
	if len(st.NotAction) > 0 {
		for _, a := range st.NotAction {
			if model.WildcardMatch(a, action) {
				return false
			}
		}
		return true
	}
	for _, a := range st.Action {
		if model.WildcardMatch(a, action) {
			return true
		}
	}
	return false
}

func resourceMatches(st model.Statement, resource string) bool {
	if len(st.NotResource) > 0 {
		for _, r := range st.NotResource {
			if model.WildcardMatch(r, resource) {
				return false
			}
		}
		return true
	}
	for _, r := range st.Resource {
		if model.WildcardMatch(r, resource) {
			return true
		}
	}
	return false
}

// otherInput computes the exact call of a fix that is not part of the
// merged update.
func (e *Executor) otherInput(ctx context.Context, app *model.Application, fx rules.Fix) (any, error) {
	a := fx.Args
	need := func(keys ...string) error {
		for _, k := range keys {
			if a[k] == "" {
				return fmt.Errorf("fix for %s has no %s", fx.Rule, k)
			}
		}
		return nil
	}
	switch fx.Call {
	case "kms:EnableKeyRotation":
		if err := need("KeyId"); err != nil {
			return nil, err
		}
		return &kms.EnableKeyRotationInput{KeyId: aws.String(a["KeyId"])}, nil
	case "s3:PutPublicAccessBlock":
		if err := need("Bucket"); err != nil {
			return nil, err
		}
		return &s3.PutPublicAccessBlockInput{Bucket: aws.String(a["Bucket"]), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}, nil
	case "logs:PutRetentionPolicy":
		if err := need("LogGroupName", "RetentionInDays"); err != nil {
			return nil, err
		}
		days, err := strconv.Atoi(a["RetentionInDays"])
		if err != nil {
			return nil, fmt.Errorf("RetentionInDays %q: %w", a["RetentionInDays"], err)
		}
		return &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(a["LogGroupName"]), RetentionInDays: aws.Int32(int32(days))}, nil
	case "ec2:RevokeSecurityGroupIngress":
		if err := need("GroupId", "SecurityGroupRuleIds"); err != nil {
			return nil, err
		}
		return &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(a["GroupId"]), SecurityGroupRuleIds: strings.Split(a["SecurityGroupRuleIds"], ",")}, nil
	case "kinesis:StartStreamEncryption":
		if err := need("StreamARN", "KeyId"); err != nil {
			return nil, err
		}
		return &kinesis.StartStreamEncryptionInput{StreamARN: aws.String(a["StreamARN"]), EncryptionType: kinesistypes.EncryptionTypeKms, KeyId: aws.String(a["KeyId"])}, nil
	case "kinesisanalyticsv2:CreateApplicationSnapshot":
		if err := need("ApplicationName", "SnapshotName"); err != nil {
			return nil, err
		}
		return &kinesisanalyticsv2.CreateApplicationSnapshotInput{ApplicationName: aws.String(a["ApplicationName"]), SnapshotName: aws.String(snapshotName(a["SnapshotName"], e.now()))}, nil
	case "iam:UpdateAssumeRolePolicy":
		if err := need("RoleName", "SourceAccount", "SourceArn"); err != nil {
			return nil, err
		}
		if e.Clients == nil || e.Clients.IAM == nil {
			return nil, errors.New("no IAM client to read the current trust policy")
		}
		// Read the current document now: the edit must start from the
		// exact bytes, not from the model's parsed copy.
		out, err := e.Clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(a["RoleName"])})
		if err != nil {
			return nil, fmt.Errorf("iam:GetRole %s: %s", a["RoleName"], errText(err))
		}
		if out.Role == nil || out.Role.AssumeRolePolicyDocument == nil {
			return nil, errors.New("iam:GetRole returned no trust policy")
		}
		doc, changed, err := AddConfusedDeputyConditions(aws.ToString(out.Role.AssumeRolePolicyDocument), a["SourceAccount"], a["SourceArn"])
		if err != nil {
			return nil, err
		}
		if !changed {
			return nil, errors.New("the trust policy has no kinesisanalytics statement without conditions: nothing to add")
		}
		return &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(a["RoleName"]), PolicyDocument: aws.String(doc)}, nil
	}
	return nil, fmt.Errorf("no executor for %s", fx.Call)
}

// snapshotName makes the rule's second-granular name unique: two
// deliveries in the same second would otherwise collide. The milliseconds
// and a random suffix keep it within [a-zA-Z0-9_.-].
func snapshotName(base string, now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%03d-%s", base, now.Nanosecond()/1e6, hex.EncodeToString(b[:]))
}

// named sets a fix's summary to the call's own name where the call names
// what it creates (the unique snapshot name).
func named(pd pending) pending {
	if in, ok := pd.input.(*kinesisanalyticsv2.CreateApplicationSnapshotInput); ok {
		pd.fix.Summary = "CreateApplicationSnapshot " + aws.ToString(in.SnapshotName)
	}
	return pd
}

// run makes one call.
func (e *Executor) run(ctx context.Context, input any) error {
	c := e.Clients
	if c == nil {
		return errors.New("no AWS clients")
	}
	var err error
	switch in := input.(type) {
	case *kms.EnableKeyRotationInput:
		_, err = c.KMS.EnableKeyRotation(ctx, in)
	case *s3.PutPublicAccessBlockInput:
		_, err = c.S3.PutPublicAccessBlock(ctx, in)
	case *cloudwatchlogs.PutRetentionPolicyInput:
		_, err = c.Logs.PutRetentionPolicy(ctx, in)
	case *ec2.RevokeSecurityGroupIngressInput:
		_, err = c.EC2.RevokeSecurityGroupIngress(ctx, in)
	case *kinesis.StartStreamEncryptionInput:
		_, err = c.Kinesis.StartStreamEncryption(ctx, in)
	case *kinesisanalyticsv2.CreateApplicationSnapshotInput:
		_, err = c.KDA.CreateApplicationSnapshot(ctx, in)
	case *iam.UpdateAssumeRolePolicyInput:
		_, err = c.IAM.UpdateAssumeRolePolicy(ctx, in)
	default:
		err = fmt.Errorf("no executor for %T", input)
	}
	return err
}

// execute makes one round's writes: the merged update, then MON.1 with the
// new token, then the other calls. A ConcurrentModificationException stops
// the round and returns what was still to do: the caller re-reads. busy is
// set (an ErrBusy error) when calls were left for a retry because the
// application did not settle after the update.
func (e *Executor) execute(ctx context.Context, app *model.Application, p *plan, rec *recorder) (conflict []pending, errs []error, applied []Action, busy error) {
	if e.Clients == nil {
		for _, pd := range p.writes() {
			rec.action(pd, Failed, "no AWS clients", nil)
		}
		return nil, []error{errors.New("remediate: no AWS clients")}, nil, nil
	}
	token, version := app.ConditionalToken, app.VersionID
	updated := false
	if len(p.update) > 0 {
		in := p.update[0].input.(*kinesisanalyticsv2.UpdateApplicationInput)
		out, err := e.Clients.KDA.UpdateApplication(ctx, in)
		switch {
		case isCode(err, "ConcurrentModificationException"):
			return p.writes(), nil, nil, nil
		case err != nil:
			for _, pd := range p.update {
				rec.action(pd, Failed, "kinesisanalyticsv2:UpdateApplication: "+errText(err), nil)
			}
			errs = append(errs, fmt.Errorf("%s: UpdateApplication: %w", app.Name, err))
		default:
			for _, pd := range p.update {
				applied = append(applied, rec.action(pd, Applied, "one UpdateApplication for "+strconv.Itoa(len(p.update))+" fix(es)", nil))
			}
			if d := out.ApplicationDetail; d != nil {
				token, version = aws.ToString(d.ConditionalToken), aws.ToInt64(d.ApplicationVersionId)
			} else {
				token, version = "", version+1
			}
			updated = true
		}
	}
	logging, others := p.logging, p.others
	if updated && (logging != nil || slices.ContainsFunc(others, isAppCall)) {
		// A RUNNING application is UPDATING after the update, and refuses
		// its own calls (ResourceInUseException) until it is RUNNING again.
		st, err := e.awaitSettled(ctx, app.Name, version)
		switch {
		case st.otherWriter:
			// Not our version: another writer changed the application
			// meanwhile. Its token is not ours to use: re-read and re-plan,
			// as on ConcurrentModificationException.
			e.logger().InfoContext(ctx, "another writer changed the application after the update: re-reading", "application", app.Name,
				"ourVersion", version, "version", st.version)
			var rest []pending
			if logging != nil {
				rest = append(rest, *logging)
			}
			return append(rest, others...), errs, applied, nil
		case !st.settled:
			why := "the application is still " + st.status + " after the merged update"
			if err != nil {
				why = "the application's status could not be read after the merged update (" + errText(err) + ")"
			}
			why += ": its own calls cannot be made now; retried later"
			busy = fmt.Errorf("%w: %s: %s", ErrBusy, app.Name, why)
			if logging != nil {
				rec.action(*logging, Skipped, why, nil)
				logging = nil
			}
			kept := []pending{}
			for _, pd := range others {
				if isAppCall(pd) {
					rec.action(pd, Skipped, why, nil)
					continue
				}
				kept = append(kept, pd)
			}
			others = kept
		default:
			token, version = st.token, st.version
		}
	}
	if logging != nil {
		calls := *logging.input.(*loggingCalls)
		add := *calls.AddApplicationCloudWatchLoggingOption
		add.ConditionalToken, add.CurrentApplicationVersionId = nil, nil
		if token != "" {
			add.ConditionalToken = aws.String(token)
		} else {
			add.CurrentApplicationVersionId = aws.Int64(version)
		}
		calls.AddApplicationCloudWatchLoggingOption = &add
		pd := *logging
		pd.input = &calls
		err := e.addLogging(ctx, &calls)
		switch {
		case isCode(err, "ConcurrentModificationException"):
			return append([]pending{pd}, others...), errs, applied, busy
		case isCode(err, "ResourceInUseException"):
			// The application is in a transitional status after all (a
			// change that started after the read): not a failed fix.
			why := "the application is busy (" + errText(err) + "): retried later"
			rec.action(pd, Skipped, why, nil)
			busy = fmt.Errorf("%w: %s: %s", ErrBusy, app.Name, why)
		case err != nil:
			rec.action(pd, Failed, errText(err), nil)
			errs = append(errs, fmt.Errorf("%s: %s: %w", app.Name, ruleLogging, err))
		default:
			applied = append(applied, rec.action(pd, Applied, "", nil))
		}
	}
	for _, pd := range others {
		err := e.run(ctx, pd.input)
		if codes, ok := underWay[pd.fix.Call]; ok && isCode(err, codes...) {
			// Verification decides: the change under way may be this fix
			// (an earlier delivery) or someone else's.
			applied = append(applied, rec.action(pd, Applied, "a change to the resource was already under way or done ("+errCode(err)+"); verifying its outcome", nil))
			continue
		}
		if err != nil {
			rec.action(pd, Failed, pd.fix.Call+": "+errText(err), nil)
			errs = append(errs, fmt.Errorf("%s: %s %s: %w", app.Name, pd.fix.Rule, pd.fix.Call, err))
			continue
		}
		applied = append(applied, rec.action(pd, Applied, "", nil))
	}
	return nil, errs, applied, busy
}

// isAppCall is a fix that calls the application itself (after the merged
// update, it must wait until the application has settled).
func isAppCall(pd pending) bool { return strings.HasPrefix(pd.fix.Call, "kinesisanalyticsv2:") }

// settleState is what awaitSettled saw last.
type settleState struct {
	settled     bool   // READY or RUNNING at our version
	otherWriter bool   // the version is no longer the one our update produced
	status      string // the last status read
	token       string
	version     int64
}

// awaitSettled re-reads the application (DescribeApplication, backing off
// from 250 ms, within the executor's patience) until the update that
// produced version has settled: READY or RUNNING again. A different
// version means another writer changed the application meanwhile.
func (e *Executor) awaitSettled(ctx context.Context, name string, version int64) (settleState, error) {
	deadline := time.Now().Add(e.patience())
	wait := 250 * time.Millisecond
	st := settleState{status: "UPDATING"}
	for {
		out, err := e.Clients.KDA.DescribeApplication(ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String(name)})
		if err != nil {
			return st, err
		}
		d := out.ApplicationDetail
		if d == nil {
			return st, errors.New("DescribeApplication returned no application")
		}
		st.status, st.token, st.version = string(d.ApplicationStatus), aws.ToString(d.ConditionalToken), aws.ToInt64(d.ApplicationVersionId)
		if st.version != version {
			st.otherWriter = true
			return st, nil
		}
		if st.status == statusReady || st.status == statusRunning {
			st.settled = true
			return st, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}

// underWay maps a fix's call to the error codes AWS answers when the
// change is already under way or done, typically by an earlier or
// concurrent delivery of the same event (another Lambda instance). The fix
// is then verified like one just made, not failed: the re-read decides.
//
//   - kinesis:StartStreamEncryption: Kinesis refuses a stream that is
//     UPDATING, for instance the encryption another delivery started.
//   - ec2:RevokeSecurityGroupIngress: the rules were revoked already
//     (InvalidSecurityGroupRuleId.NotFound by rule id,
//     InvalidPermission.NotFound by permission). The call is atomic: if
//     only some were gone, none was revoked, and verification fails
//     honestly; the retry plans the rules still open.
//   - kinesisanalyticsv2:CreateApplicationSnapshot: a snapshot of the same
//     name exists (names are unique per call, see snapshotName, so this is
//     a replay of the same call). AWS answers the same code when the
//     application is not RUNNING: no snapshot is then taken, and
//     verification fails honestly after VerifyPatience; the retry
//     re-plans.
var underWay = map[string][]string{
	"kinesis:StartStreamEncryption":                {"ResourceInUseException"},
	"ec2:RevokeSecurityGroupIngress":               {"InvalidSecurityGroupRuleId.NotFound", "InvalidPermission.NotFound"},
	"kinesisanalyticsv2:CreateApplicationSnapshot": {"ResourceInUseException"},
}

// addLogging creates the log group and stream (either may exist already)
// and adds the logging option.
func (e *Executor) addLogging(ctx context.Context, c *loggingCalls) error {
	if _, err := e.Clients.Logs.CreateLogGroup(ctx, c.CreateLogGroup); err != nil && !isCode(err, "ResourceAlreadyExistsException") {
		return fmt.Errorf("logs:CreateLogGroup: %w", err)
	}
	if _, err := e.Clients.Logs.CreateLogStream(ctx, c.CreateLogStream); err != nil && !isCode(err, "ResourceAlreadyExistsException") {
		return fmt.Errorf("logs:CreateLogStream: %w", err)
	}
	if _, err := e.Clients.KDA.AddApplicationCloudWatchLoggingOption(ctx, c.AddApplicationCloudWatchLoggingOption); err != nil {
		return fmt.Errorf("kinesisanalyticsv2:AddApplicationCloudWatchLoggingOption: %w", err)
	}
	return nil
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// errCode is the service's error code, if any.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errText is an error for the audit: the service's code and message.
func errText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return ae.ErrorCode() + ": " + msg
	}
	return err.Error()
}

// AddConfusedDeputyConditions adds aws:SourceAccount (StringEquals) and
// aws:SourceArn (ArnLike) to every Allow statement that trusts
// kinesisanalytics.amazonaws.com without either key. Every other statement
// and every other top-level member is kept byte for byte. It accepts the
// URL-encoded form IAM returns.
func AddConfusedDeputyConditions(doc, account, sourceArn string) (string, bool, error) {
	s := strings.TrimSpace(doc)
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		d, err := url.QueryUnescape(s)
		if err != nil {
			return "", false, fmt.Errorf("url-decode trust policy: %w", err)
		}
		s = d
	}
	raw := []byte(s)
	dec := json.NewDecoder(bytes.NewReader(raw))
	// Walk the top-level object by tokens to find the Statement value's
	// byte span, so everything around it is untouched.
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return "", false, errors.New("trust policy is not a JSON object")
	}
	start, end := -1, -1
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return "", false, fmt.Errorf("trust policy: %w", err)
		}
		key, _ := keyTok.(string)
		off := dec.InputOffset()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false, fmt.Errorf("trust policy %s: %w", key, err)
		}
		if key == "Statement" {
			// InputOffset is after the key; skip the colon and blanks.
			i := int(off)
			for i < len(raw) && (raw[i] == ':' || raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
				i++
			}
			start, end = i, int(dec.InputOffset())
		}
	}
	if start < 0 {
		return "", false, errors.New("trust policy has no Statement")
	}
	stmts := bytes.TrimSpace(raw[start:end])
	var out []byte
	changed := false
	if len(stmts) > 0 && stmts[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(stmts, &list); err != nil {
			return "", false, fmt.Errorf("trust policy Statement: %w", err)
		}
		// Rebuild the list from each element's original bytes, keeping the
		// separators as they were.
		var b bytes.Buffer
		pos := 0
		body := stmts
		for _, el := range list {
			idx := bytes.Index(body[pos:], el)
			if idx < 0 {
				return "", false, errors.New("trust policy Statement: cannot locate a statement")
			}
			b.Write(body[pos : pos+idx])
			nel, c, err := guardStatement(el, account, sourceArn)
			if err != nil {
				return "", false, err
			}
			changed = changed || c
			b.Write(nel)
			pos += idx + len(el)
		}
		b.Write(body[pos:])
		out = b.Bytes()
	} else {
		nel, c, err := guardStatement(stmts, account, sourceArn)
		if err != nil {
			return "", false, err
		}
		changed, out = c, nel
	}
	res := make([]byte, 0, len(raw)+200)
	res = append(res, raw[:start]...)
	res = append(res, out...)
	res = append(res, raw[start+len(bytes.TrimRight(raw[start:end], " \t\r\n")):]...)
	return string(res), changed, nil
}

// guardStatement adds the conditions to one statement if it is the
// service's unguarded trust statement; otherwise it returns it unchanged.
func guardStatement(el json.RawMessage, account, sourceArn string) (json.RawMessage, bool, error) {
	var st model.Statement
	if err := json.Unmarshal(el, &st); err != nil {
		return nil, false, fmt.Errorf("trust policy statement: %w", err)
	}
	if !trustsKDA(st) || hasKey(st, "aws:SourceAccount") || hasKey(st, "aws:SourceArn") {
		return el, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(el, &m); err != nil {
		return nil, false, fmt.Errorf("trust policy statement: %w", err)
	}
	cond := map[string]map[string]json.RawMessage{}
	if c, ok := m["Condition"]; ok {
		if err := json.Unmarshal(c, &cond); err != nil {
			return nil, false, fmt.Errorf("trust policy statement Condition: %w", err)
		}
	}
	set := func(op, key, val string) {
		if cond[op] == nil {
			cond[op] = map[string]json.RawMessage{}
		}
		b, _ := json.Marshal(val)
		cond[op][key] = b
	}
	set("StringEquals", "aws:SourceAccount", account)
	set("ArnLike", "aws:SourceArn", sourceArn)
	cb, err := json.Marshal(cond)
	if err != nil {
		return nil, false, err
	}
	m["Condition"] = cb
	// Keep IAM's usual member order for readability.
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	write := func(k string) {
		v, ok := m[k]
		if !ok {
			return
		}
		if n > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
		delete(m, k)
		n++
	}
	for _, k := range []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource"} {
		write(k)
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		if k != "Condition" {
			rest = append(rest, k)
		}
	}
	for _, k := range rest {
		write(k)
	}
	write("Condition")
	b.WriteByte('}')
	return b.Bytes(), true, nil
}

func trustsKDA(st model.Statement) bool {
	if !strings.EqualFold(st.Effect, "Allow") || st.Principal == nil {
		return false
	}
	svc := false
	for _, s := range st.Principal.Service {
		svc = svc || strings.EqualFold(s, rules.ServicePrincipal)
	}
	if !svc {
		return false
	}
	for _, a := range st.Action {
		if model.WildcardMatch(a, "sts:AssumeRole") {
			return true
		}
	}
	return false
}

func hasKey(st model.Statement, key string) bool {
	for _, kv := range st.Condition {
		for k := range kv {
			if strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}
