package main_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
	"github.com/kdaguard/kdaguard/internal/rie"
)

// BenchmarkMergedRemediation sizes the remediator's Lambda memory: the
// compiled bootstrap under the RIE, in remediate mode, converging an
// application someone else broke (checkpointing off, monitoring at DEBUG,
// no autoscaling, snapshots and rollback off, no logging option, key
// rotation off) from its CloudTrail UpdateApplication event: one merged
// UpdateApplication, the logging option, EnableKeyRotation, verification,
// and the audit trail. Breaking the application again is outside the timer
// and the function's CPU. peak-RSS-MB is the function process's VmHWM after
// all ops; cpu-ms/op the CPU time the function used per event.
func BenchmarkMergedRemediation(b *testing.B) {
	env := localawstest.Start(b)
	ctx := context.Background()
	names, err := env.SeedAccount(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	app := names[0]
	cfg := env.AWSConfig(ctx)
	kda, kmsc := kinesisanalyticsv2.NewFromConfig(cfg), kms.NewFromConfig(cfg)
	fn := rie.Start(b, rie.Build(b, "./functions/remediator"), awsEnv(env, map[string]string{
		"KDAGUARD_MODE": "remediate", "KDAGUARD_RESTART_POLICY": "allow", "KDAGUARD_SELF_ROLE_ARN": selfRole}))
	ev := bytes.ReplaceAll(event(b, "cloudtrail", "UpdateApplication.json"), []byte("orders-enrichment"), []byte(app))

	breakIt := func() {
		d, err := kda.DescribeApplication(ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String(app)})
		if err != nil {
			b.Fatal(err)
		}
		detail := d.ApplicationDetail
		for _, o := range detail.CloudWatchLoggingOptionDescriptions {
			r, err := kda.DeleteApplicationCloudWatchLoggingOption(ctx, &kinesisanalyticsv2.DeleteApplicationCloudWatchLoggingOptionInput{
				ApplicationName: aws.String(app), CloudWatchLoggingOptionId: o.CloudWatchLoggingOptionId,
				CurrentApplicationVersionId: detail.ApplicationVersionId})
			if err != nil {
				b.Fatal(err)
			}
			detail.ApplicationVersionId = r.ApplicationVersionId
		}
		if _, err := kda.UpdateApplication(ctx, &kinesisanalyticsv2.UpdateApplicationInput{ApplicationName: aws.String(app),
			CurrentApplicationVersionId: detail.ApplicationVersionId,
			ApplicationConfigurationUpdate: &kt.ApplicationConfigurationUpdate{
				ApplicationSnapshotConfigurationUpdate:       &kt.ApplicationSnapshotConfigurationUpdate{SnapshotsEnabledUpdate: aws.Bool(false)},
				ApplicationSystemRollbackConfigurationUpdate: &kt.ApplicationSystemRollbackConfigurationUpdate{RollbackEnabledUpdate: aws.Bool(false)},
				FlinkApplicationConfigurationUpdate: &kt.FlinkApplicationConfigurationUpdate{
					CheckpointConfigurationUpdate: &kt.CheckpointConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom, CheckpointingEnabledUpdate: aws.Bool(false)},
					MonitoringConfigurationUpdate: &kt.MonitoringConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom, LogLevelUpdate: kt.LogLevelDebug},
					ParallelismConfigurationUpdate: &kt.ParallelismConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom,
						AutoScalingEnabledUpdate: aws.Bool(false), ParallelismUpdate: aws.Int32(2)}}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := kmsc.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: detail.ApplicationConfigurationDescription.
			ApplicationEncryptionConfigurationDescription.KeyId}); err != nil {
			b.Fatal(err)
		}
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	breakIt()
	if out, err := fn.Invoke(ictx, ev); err != nil { // the cold start is Lambda's init, not an op
		b.Fatalf("warm-up: %v (%s)", err, out)
	}
	cpu0, err := fn.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		breakIt()
		env.ResetJournal()
		b.StartTimer()
		if out, err := fn.Invoke(ictx, ev); err != nil {
			b.Fatalf("%v (%s)", err, out)
		}
		b.StopTimer()
		if n := env.Count("kinesisanalyticsv2", "UpdateApplication"); n != 1 {
			b.Fatalf("UpdateApplication %d times, want 1 merged call", n)
		}
		for _, op := range []struct{ service, op string }{{"kinesisanalyticsv2", "AddApplicationCloudWatchLoggingOption"}, {"kms", "EnableKeyRotation"}} {
			if n := env.Count(op.service, op.op); n != 1 {
				b.Fatalf("%s %d times, want 1", op.op, n)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	peak, err := fn.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	cpu1, err := fn.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
