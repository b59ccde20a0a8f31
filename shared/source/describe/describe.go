// Package describe turns DescribeApplication output into the model: the SDK's
// types.ApplicationDetail, or the same shape as JSON as printed by
// `aws kinesisanalyticsv2 describe-application`.
package describe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/model"
)

// FromDetail fills the application's own settings from DescribeApplication.
// Related resources and tags are left unknown ("not read") for a collector.
func FromDetail(d *types.ApplicationDetail) *model.Application {
	a := &model.Application{
		Name:             aws.ToString(d.ApplicationName),
		ARN:              aws.ToString(d.ApplicationARN),
		Runtime:          nonEmpty(string(d.RuntimeEnvironment), "DescribeApplication returned no RuntimeEnvironment"),
		Mode:             string(d.ApplicationMode),
		Status:           nonEmpty(string(d.ApplicationStatus), "DescribeApplication returned no ApplicationStatus"),
		VersionID:        aws.ToInt64(d.ApplicationVersionId),
		ConditionalToken: aws.ToString(d.ConditionalToken),
		RoleARN:          model.Known(aws.ToString(d.ServiceExecutionRole)),
	}
	if a.Mode == "" {
		a.Mode = model.ModeStreaming
	}
	a.Partition, a.Region, a.Account = splitARN(a.ARN)

	logging := make([]model.LoggingOption, 0, len(d.CloudWatchLoggingOptionDescriptions))
	for _, o := range d.CloudWatchLoggingOptionDescriptions {
		arn := aws.ToString(o.LogStreamARN)
		logging = append(logging, model.LoggingOption{ID: aws.ToString(o.CloudWatchLoggingOptionId),
			LogStreamARN: arn, LogGroup: model.LogGroupFromStreamARN(arn)})
	}
	a.Logging = model.Known(logging)

	c := d.ApplicationConfigurationDescription
	if c == nil {
		const why = "DescribeApplication returned no ApplicationConfigurationDescription"
		a.Encryption, a.Snapshots, a.Rollback = model.Unknown[model.Encryption](why), model.Unknown[bool](why), model.Unknown[bool](why)
		a.Checkpoint, a.Monitoring, a.Parallelism = model.Unknown[model.Checkpoint](why), model.Unknown[model.Monitoring](why), model.Unknown[model.Parallelism](why)
		a.VPCs, a.Properties, a.Code = model.Unknown[[]model.VPCConfig](why), model.Unknown[[]model.PropertyGroup](why), model.Unknown[model.Code](why)
		return a
	}
	// No encryption description means the service's default, an AWS owned key.
	enc := model.Encryption{KeyType: model.KeyTypeAWSOwned}
	if e := c.ApplicationEncryptionConfigurationDescription; e != nil {
		enc = model.Encryption{KeyType: string(e.KeyType), KeyID: aws.ToString(e.KeyId)}
	}
	a.Encryption = model.Known(enc)

	if s := c.ApplicationSnapshotConfigurationDescription; s != nil {
		a.Snapshots = model.Known(aws.ToBool(s.SnapshotsEnabled))
	} else {
		a.Snapshots = model.Unknown[bool]("DescribeApplication returned no snapshot configuration")
	}
	// System rollback is opt-in: no description means it was never turned on.
	rollback := false
	if r := c.ApplicationSystemRollbackConfigurationDescription; r != nil {
		rollback = aws.ToBool(r.RollbackEnabled)
	}
	a.Rollback = model.Known(rollback)

	flinkSettings(a, c)

	vpcs := make([]model.VPCConfig, 0, len(c.VpcConfigurationDescriptions))
	for _, v := range c.VpcConfigurationDescriptions {
		vpcs = append(vpcs, model.VPCConfig{ID: aws.ToString(v.VpcConfigurationId), VpcID: aws.ToString(v.VpcId),
			SubnetIDs: v.SubnetIds, SecurityGroupIDs: v.SecurityGroupIds})
	}
	a.VPCs = model.Known(vpcs)

	var groups []model.PropertyGroup
	if e := c.EnvironmentPropertyDescriptions; e != nil {
		groups = make([]model.PropertyGroup, 0, len(e.PropertyGroupDescriptions))
		for _, g := range e.PropertyGroupDescriptions {
			groups = append(groups, model.PropertyGroup{ID: aws.ToString(g.PropertyGroupId), Properties: g.PropertyMap})
		}
	}
	a.Properties = model.Known(groups)

	code := model.Code{}
	if cc := c.ApplicationCodeConfigurationDescription; cc != nil {
		code.ContentType = string(cc.CodeContentType)
		if cd := cc.CodeContentDescription; cd != nil && cd.S3ApplicationCodeLocationDescription != nil {
			s3 := cd.S3ApplicationCodeLocationDescription
			code.BucketARN = aws.ToString(s3.BucketARN)
			code.Bucket = BucketName(code.BucketARN)
			code.FileKey = aws.ToString(s3.FileKey)
			code.ObjectVersion = aws.ToString(s3.ObjectVersion)
		}
	}
	a.Code = model.Known(code)

	if sql := c.SqlApplicationConfigurationDescription; sql != nil {
		for _, in := range sql.InputDescriptions {
			if k := in.KinesisStreamsInputDescription; k != nil {
				a.SQLInputs = append(a.SQLInputs, aws.ToString(k.ResourceARN))
			}
		}
		for _, out := range sql.OutputDescriptions {
			if k := out.KinesisStreamsOutputDescription; k != nil {
				a.SQLOutputs = append(a.SQLOutputs, aws.ToString(k.ResourceARN))
			}
		}
	}
	return a
}

func flinkSettings(a *model.Application, c *types.ApplicationConfigurationDescription) {
	const why = "DescribeApplication returned no Flink configuration"
	f := c.FlinkApplicationConfigurationDescription
	if z := c.ZeppelinApplicationConfigurationDescription; f == nil && z != nil && z.MonitoringConfigurationDescription != nil {
		// Studio notebooks have a log level but no CUSTOM/DEFAULT switch.
		a.Monitoring = model.Known(model.Monitoring{ConfigurationType: model.ConfigCustom,
			LogLevel: string(z.MonitoringConfigurationDescription.LogLevel)})
	}
	if f == nil {
		a.Checkpoint, a.Parallelism = model.Unknown[model.Checkpoint](why), model.Unknown[model.Parallelism](why)
		if !a.Monitoring.Known() {
			a.Monitoring = model.Unknown[model.Monitoring](why)
		}
		return
	}
	if cp := f.CheckpointConfigurationDescription; cp != nil {
		a.Checkpoint = model.Known(model.Checkpoint{ConfigurationType: string(cp.ConfigurationType),
			Enabled: aws.ToBool(cp.CheckpointingEnabled), IntervalMs: aws.ToInt64(cp.CheckpointInterval),
			MinPauseMs: aws.ToInt64(cp.MinPauseBetweenCheckpoints)})
	} else {
		a.Checkpoint = model.Unknown[model.Checkpoint]("DescribeApplication returned no checkpoint configuration")
	}
	if m := f.MonitoringConfigurationDescription; m != nil {
		a.Monitoring = model.Known(model.Monitoring{ConfigurationType: string(m.ConfigurationType),
			LogLevel: string(m.LogLevel), MetricsLevel: string(m.MetricsLevel)})
	} else {
		a.Monitoring = model.Unknown[model.Monitoring]("DescribeApplication returned no monitoring configuration")
	}
	if p := f.ParallelismConfigurationDescription; p != nil {
		a.Parallelism = model.Known(model.Parallelism{ConfigurationType: string(p.ConfigurationType),
			AutoScalingEnabled: aws.ToBool(p.AutoScalingEnabled), Parallelism: aws.ToInt32(p.Parallelism),
			PerKPU: aws.ToInt32(p.ParallelismPerKPU)})
	} else {
		a.Parallelism = model.Unknown[model.Parallelism]("DescribeApplication returned no parallelism configuration")
	}
}

// nonEmpty is a known fact, or an unknown one with why when s is empty: an
// absent value is not a value.
func nonEmpty(s, why string) model.Fact[string] {
	if s == "" {
		return model.Unknown[string](why)
	}
	return model.Known(s)
}

// splitARN returns partition, Region and account of an ARN.
func splitARN(arn string) (partition, region, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", "", ""
	}
	return parts[1], parts[3], parts[4]
}

// BucketName is the bucket of an S3 bucket ARN (arn:aws:s3:::name).
func BucketName(arn string) string {
	if i := strings.LastIndex(arn, ":"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Output is the JSON printed by `aws kinesisanalyticsv2 describe-application`.
type Output struct {
	ApplicationDetail *types.ApplicationDetail
}

// ErrNotDescribe says the JSON is not DescribeApplication output.
var ErrNotDescribe = errors.New("not DescribeApplication output: no ApplicationDetail")

// ParseJSON reads describe-application output. Timestamps may be ISO 8601
// (the CLI's default) or epoch seconds (--cli-timestamp-format none... or SDK
// dumps): both are accepted.
func ParseJSON(data []byte) (*model.Application, error) {
	var out Output
	err := json.Unmarshal(data, &out)
	if err != nil {
		// Epoch-second timestamps fail time.Time's decoder; rewrite and retry.
		if iso, convErr := isoTimestamps(data); convErr == nil {
			out = Output{}
			if json.Unmarshal(iso, &out) == nil {
				err = nil
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("decode DescribeApplication JSON: %w", err)
	}
	if out.ApplicationDetail == nil {
		return nil, ErrNotDescribe
	}
	if out.ApplicationDetail.ApplicationName == nil {
		return nil, errors.New("DescribeApplication JSON: ApplicationDetail has no ApplicationName")
	}
	return FromDetail(out.ApplicationDetail), nil
}

// IsDescribeJSON reports whether data is a JSON object with a top-level
// "ApplicationDetail" member (describe-application output), wherever the
// member stands (ResponseMetadata may come first).
func IsDescribeJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' || !bytes.Contains(t, []byte(`"ApplicationDetail"`)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		if key == "ApplicationDetail" {
			return true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// isoTimestamps rewrites numeric "...Timestamp" fields as RFC 3339 strings.
func isoTimestamps(data []byte) ([]byte, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, e := range t {
				if n, ok := e.(json.Number); ok && strings.HasSuffix(k, "Timestamp") {
					if f, err := n.Float64(); err == nil {
						sec := int64(f)
						t[k] = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Format(time.RFC3339Nano)
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}
