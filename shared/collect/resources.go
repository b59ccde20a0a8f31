package collect

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kdaguard/kdaguard/shared/model"
)

// MetricsNamespace is where the service publishes application metrics; the
// alarms kept for an application watch a metric there with the dimension
// Application = its name.
const MetricsNamespace = "AWS/KinesisAnalytics"

// key reads the customer managed key of the application state: DescribeKey,
// then GetKeyRotationStatus and GetKeyPolicy ("default") on the key's ARN
// (KeyId may be an alias, which those two do not take).
func (s *Session) key(ctx context.Context, app *model.Application) model.Fact[model.Key] {
	enc, ok := app.Encryption.Get()
	if !ok {
		return model.Unknown[model.Key]("encryption configuration: " + app.Encryption.Reason())
	}
	if enc.KeyType != model.KeyTypeCustomerManaged {
		return model.Unknown[model.Key]("application state does not use a customer managed key")
	}
	if enc.KeyID == "" {
		return model.Unknown[model.Key]("the encryption configuration names no key")
	}
	k, err := once(ctx, s, "kms:key:"+enc.KeyID, func(ctx context.Context) (model.Key, error) {
		d, err := call(ctx, s, func(ctx context.Context) (*kms.DescribeKeyOutput, error) {
			return s.c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(enc.KeyID)})
		})
		if err != nil {
			if isNotFound(err) {
				return model.Key{}, errors.New("KMS key " + enc.KeyID + " does not exist")
			}
			return model.Key{}, s.fail(ctx, "kms:DescribeKey", enc.KeyID, err)
		}
		md := d.KeyMetadata
		if md == nil {
			return model.Key{}, errors.New("kms:DescribeKey returned no KeyMetadata for " + enc.KeyID)
		}
		key := model.Key{ID: aws.ToString(md.KeyId), ARN: aws.ToString(md.Arn), State: string(md.KeyState),
			Spec: string(md.KeySpec), Manager: string(md.KeyManager)}
		id := key.ARN
		if id == "" {
			id = key.ID
		}
		parallel(
			func() {
				r, err := call(ctx, s, func(ctx context.Context) (*kms.GetKeyRotationStatusOutput, error) {
					return s.c.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
				})
				if err != nil {
					key.Rotation = model.Unknown[bool](why(s.fail(ctx, "kms:GetKeyRotationStatus", id, err)))
					return
				}
				key.Rotation = model.Known(r.KeyRotationEnabled)
			},
			func() {
				p, err := call(ctx, s, func(ctx context.Context) (*kms.GetKeyPolicyOutput, error) {
					return s.c.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
				})
				if err != nil {
					key.Policy = model.Unknown[model.PolicyDocument](why(s.fail(ctx, "kms:GetKeyPolicy", id, err)))
					return
				}
				key.Policy = parsed(aws.ToString(p.Policy))
			},
		)
		return key, nil
	})
	if err != nil {
		return model.Unknown[model.Key](why(err))
	}
	return model.Known(k)
}

func arnOf(app *model.Application, service, resource string) string {
	p := app.Partition
	if p == "" {
		p = "aws"
	}
	return "arn:" + p + ":" + service + ":" + app.Region + ":" + app.Account + ":" + resource
}

// logGroups reads each logging option's log group with DescribeLogGroups
// (logGroupNamePrefix, paged until the exact name), once per group.
func (s *Session) logGroups(ctx context.Context, app *model.Application) map[string]model.Fact[model.LogGroup] {
	opts, ok := app.Logging.Get()
	if !ok {
		return nil
	}
	var names []string
	for _, o := range opts {
		if !slices.Contains(names, o.LogGroup) {
			names = append(names, o.LogGroup)
		}
	}
	return readEach(names, func(name string) model.Fact[model.LogGroup] {
		if name == "" {
			return model.Unknown[model.LogGroup]("no log group in the logging option's LogStreamARN")
		}
		g, err := once(ctx, s, "logs:group:"+name, func(ctx context.Context) (model.LogGroup, error) {
			p := cloudwatchlogs.NewDescribeLogGroupsPaginator(s.c.Logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
			for p.HasMorePages() {
				page, err := call(ctx, s, func(ctx context.Context) (*cloudwatchlogs.DescribeLogGroupsOutput, error) { return p.NextPage(ctx) })
				if err != nil {
					return model.LogGroup{}, s.fail(ctx, "logs:DescribeLogGroups", arnOf(app, "logs", "log-group:"+name), err)
				}
				for _, lg := range page.LogGroups {
					if aws.ToString(lg.LogGroupName) == name {
						return model.LogGroup{Name: name, RetentionDays: aws.ToInt32(lg.RetentionInDays), KMSKeyID: aws.ToString(lg.KmsKeyId)}, nil
					}
				}
			}
			return model.LogGroup{}, errors.New("log group does not exist")
		})
		if err != nil {
			return model.Unknown[model.LogGroup](why(err))
		}
		return model.Known(g)
	})
}

// bucket reads the code bucket: GetPublicAccessBlock, GetBucketEncryption
// and GetBucketPolicyStatus, concurrently, once per bucket. The "not
// configured" errors are known answers: no public access block means all
// four settings off, no encryption configuration means "", no bucket policy
// means not public.
func (s *Session) bucket(ctx context.Context, app *model.Application) model.Fact[model.Bucket] {
	code, ok := app.Code.Get()
	if !ok {
		return model.Unknown[model.Bucket]("code location: " + app.Code.Reason())
	}
	if code.Bucket == "" {
		return model.Unknown[model.Bucket]("the application code is not stored in S3")
	}
	name := code.Bucket
	res := "arn:" + partitionOr(app.Partition) + ":s3:::" + name
	b, err := once(ctx, s, "s3:bucket:"+name, func(ctx context.Context) (model.Bucket, error) {
		b := model.Bucket{Name: name}
		var missing atomic.Int32
		gone := func() { missing.Add(1) }
		parallel(
			func() {
				out, err := call(ctx, s, func(ctx context.Context) (*s3.GetPublicAccessBlockOutput, error) {
					return s.c.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
				})
				switch {
				case err == nil && out.PublicAccessBlockConfiguration != nil:
					c := out.PublicAccessBlockConfiguration
					b.PublicAccessBlock = model.Known(model.PublicAccessBlock{BlockPublicAcls: aws.ToBool(c.BlockPublicAcls),
						IgnorePublicAcls: aws.ToBool(c.IgnorePublicAcls), BlockPublicPolicy: aws.ToBool(c.BlockPublicPolicy),
						RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets)})
				case err == nil || hasCode(err, "NoSuchPublicAccessBlockConfiguration"):
					b.PublicAccessBlock = model.Known(model.PublicAccessBlock{})
				default:
					if hasCode(err, "NoSuchBucket") {
						gone()
					}
					b.PublicAccessBlock = model.Unknown[model.PublicAccessBlock](why(s.fail(ctx, "s3:GetBucketPublicAccessBlock", res, err)))
				}
			},
			func() {
				out, err := call(ctx, s, func(ctx context.Context) (*s3.GetBucketEncryptionOutput, error) {
					return s.c.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)})
				})
				switch {
				case err == nil:
					alg := ""
					if c := out.ServerSideEncryptionConfiguration; c != nil {
						for _, r := range c.Rules {
							if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm != "" {
								alg = string(d.SSEAlgorithm)
								break
							}
						}
					}
					b.Encryption = model.Known(alg)
				case hasCode(err, "ServerSideEncryptionConfigurationNotFoundError"):
					b.Encryption = model.Known("")
				default:
					if hasCode(err, "NoSuchBucket") {
						gone()
					}
					b.Encryption = model.Unknown[string](why(s.fail(ctx, "s3:GetEncryptionConfiguration", res, err)))
				}
			},
			func() {
				out, err := call(ctx, s, func(ctx context.Context) (*s3.GetBucketPolicyStatusOutput, error) {
					return s.c.S3.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(name)})
				})
				switch {
				case err == nil:
					b.PolicyPublic = model.Known(out.PolicyStatus != nil && aws.ToBool(out.PolicyStatus.IsPublic))
				case hasCode(err, "NoSuchBucketPolicy"):
					b.PolicyPublic = model.Known(false)
				default:
					if hasCode(err, "NoSuchBucket") {
						gone()
					}
					b.PolicyPublic = model.Unknown[bool](why(s.fail(ctx, "s3:GetBucketPolicyStatus", res, err)))
				}
			},
		)
		if missing.Load() == 3 {
			return model.Bucket{}, errors.New("bucket " + name + " does not exist")
		}
		return b, nil
	})
	if err != nil {
		return model.Unknown[model.Bucket](why(err))
	}
	return model.Known(b)
}

func partitionOr(p string) string {
	if p == "" {
		return "aws"
	}
	return p
}

// streams reads each Kinesis stream the application is known to use
// (model's KinesisStreams, which needs the role) with DescribeStreamSummary,
// once per stream.
func (s *Session) streams(ctx context.Context, app *model.Application) map[string]model.Fact[model.Stream] {
	arns, _, _ := app.KinesisStreams()
	return readEach(arns, func(arn string) model.Fact[model.Stream] {
		st, err := once(ctx, s, "kinesis:stream:"+arn, func(ctx context.Context) (model.Stream, error) {
			out, err := call(ctx, s, func(ctx context.Context) (*kinesis.DescribeStreamSummaryOutput, error) {
				return s.c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn)})
			})
			if err != nil {
				if isNotFound(err) {
					return model.Stream{}, errors.New("stream does not exist")
				}
				return model.Stream{}, s.fail(ctx, "kinesis:DescribeStreamSummary", arn, err)
			}
			st := model.Stream{ARN: arn, Name: model.StreamName(arn)}
			if d := out.StreamDescriptionSummary; d != nil {
				st.EncryptionType = string(d.EncryptionType)
				st.KeyID = aws.ToString(d.KeyId)
				if n := aws.ToString(d.StreamName); n != "" {
					st.Name = n
				}
			}
			if st.EncryptionType == "" {
				st.EncryptionType = "NONE"
			}
			return st, nil
		})
		if err != nil {
			return model.Unknown[model.Stream](why(err))
		}
		return model.Known(st)
	})
}

// alarms reads every metric alarm of the Region once per session
// (DescribeAlarms, all pages) and keeps those on a metric of
// AWS/KinesisAnalytics with the dimension Application = the application's
// name, including metric-math alarms through their metric queries.
func (s *Session) alarms(ctx context.Context, app *model.Application) model.Fact[[]model.Alarm] {
	all, err := once(ctx, s, "cloudwatch:alarms", func(ctx context.Context) ([]model.Alarm, error) {
		var out []model.Alarm
		p := cloudwatch.NewDescribeAlarmsPaginator(s.c.CloudWatch, &cloudwatch.DescribeAlarmsInput{})
		for p.HasMorePages() {
			page, err := call(ctx, s, func(ctx context.Context) (*cloudwatch.DescribeAlarmsOutput, error) { return p.NextPage(ctx) })
			if err != nil {
				return nil, s.fail(ctx, "cloudwatch:DescribeAlarms", "", err)
			}
			for _, a := range page.MetricAlarms {
				name := aws.ToString(a.AlarmName)
				if a.MetricName != nil {
					out = append(out, model.Alarm{Name: name, Namespace: aws.ToString(a.Namespace),
						MetricName: aws.ToString(a.MetricName), Dimensions: dims(a.Dimensions)})
				}
				for _, q := range a.Metrics {
					if q.MetricStat != nil && q.MetricStat.Metric != nil {
						m := q.MetricStat.Metric
						out = append(out, model.Alarm{Name: name, Namespace: aws.ToString(m.Namespace),
							MetricName: aws.ToString(m.MetricName), Dimensions: dims(m.Dimensions)})
					}
				}
			}
		}
		return out, nil
	})
	if err != nil {
		return model.Unknown[[]model.Alarm](why(err))
	}
	mine := []model.Alarm{}
	for _, a := range all {
		if a.Namespace == MetricsNamespace && a.Dimensions["Application"] == app.Name {
			mine = append(mine, a)
		}
	}
	return model.Known(mine)
}

func dims(ds []cwtypes.Dimension) map[string]string {
	m := make(map[string]string, len(ds))
	for _, d := range ds {
		m[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return m
}

// trails reads the account's trails once per session: DescribeTrails with
// shadow trails (multi-Region trails from their home Region) and
// GetTrailStatus of each, by ARN as shadow trails require.
func (s *Session) trails(ctx context.Context) model.Fact[[]model.Trail] {
	ts, err := once(ctx, s, "cloudtrail:trails", func(ctx context.Context) ([]model.Trail, error) {
		out, err := call(ctx, s, func(ctx context.Context) (*cloudtrail.DescribeTrailsOutput, error) {
			return s.c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
		})
		if err != nil {
			return nil, s.fail(ctx, "cloudtrail:DescribeTrails", "", err)
		}
		trails := make([]model.Trail, len(out.TrailList))
		each(out.TrailList, func(i int, t cttypes.Trail) {
			tr := model.Trail{Name: aws.ToString(t.Name), ARN: aws.ToString(t.TrailARN), MultiRegion: aws.ToBool(t.IsMultiRegionTrail)}
			id := tr.ARN
			if id == "" {
				id = tr.Name
			}
			st, err := call(ctx, s, func(ctx context.Context) (*cloudtrail.GetTrailStatusOutput, error) {
				return s.c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(id)})
			})
			if err != nil {
				tr.Logging = model.Unknown[bool](why(s.fail(ctx, "cloudtrail:GetTrailStatus", id, err)))
			} else {
				tr.Logging = model.Known(aws.ToBool(st.IsLogging))
			}
			trails[i] = tr
		})
		return trails, nil
	})
	if err != nil {
		return model.Unknown[[]model.Trail](why(err))
	}
	return model.Known(ts)
}

// recorders reads the AWS Config recorders and their status once per
// session. A recorder with the EXCLUSION_BY_RESOURCE_TYPES strategy records
// all supported types but the excluded ones.
func (s *Session) recorders(ctx context.Context) model.Fact[[]model.Recorder] {
	rs, err := once(ctx, s, "config:recorders", func(ctx context.Context) ([]model.Recorder, error) {
		var recs *configservice.DescribeConfigurationRecordersOutput
		var status *configservice.DescribeConfigurationRecorderStatusOutput
		var recErr, stErr error
		parallel(
			func() {
				recs, recErr = call(ctx, s, func(ctx context.Context) (*configservice.DescribeConfigurationRecordersOutput, error) {
					return s.c.Config.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
				})
			},
			func() {
				status, stErr = call(ctx, s, func(ctx context.Context) (*configservice.DescribeConfigurationRecorderStatusOutput, error) {
					return s.c.Config.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
				})
			},
		)
		if recErr != nil {
			return nil, s.fail(ctx, "config:DescribeConfigurationRecorders", "", recErr)
		}
		if stErr != nil {
			return nil, s.fail(ctx, "config:DescribeConfigurationRecorderStatus", "", stErr)
		}
		recording := map[string]bool{}
		for _, st := range status.ConfigurationRecordersStatus {
			recording[aws.ToString(st.Name)] = st.Recording
		}
		out := make([]model.Recorder, 0, len(recs.ConfigurationRecorders))
		for _, r := range recs.ConfigurationRecorders {
			out = append(out, recorder(r, recording[aws.ToString(r.Name)]))
		}
		return out, nil
	})
	if err != nil {
		return model.Unknown[[]model.Recorder](why(err))
	}
	return model.Known(rs)
}

// recorder converts a configuration recorder. AllSupported is also true for
// the EXCLUSION_BY_RESOURCE_TYPES strategy, whose excluded types become
// Exclusions.
func recorder(r cfgtypes.ConfigurationRecorder, recording bool) model.Recorder {
	m := model.Recorder{Name: aws.ToString(r.Name), Recording: recording}
	if g := r.RecordingGroup; g != nil {
		m.AllSupported = g.AllSupported
		m.ResourceTypes = typeNames(g.ResourceTypes)
		if g.RecordingStrategy != nil && g.RecordingStrategy.UseOnly == cfgtypes.RecordingStrategyTypeExclusionByResourceTypes {
			m.AllSupported = true
			if g.ExclusionByResourceTypes != nil {
				m.Exclusions = typeNames(g.ExclusionByResourceTypes.ResourceTypes)
			}
		}
	}
	return m
}

func typeNames(ts []cfgtypes.ResourceType) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t))
	}
	return out
}
