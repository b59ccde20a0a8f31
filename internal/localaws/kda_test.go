package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	kda "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/internal/localaws"
	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
)

const roleARN = "arn:aws:iam::123456789012:role/flink-role"

func kdaClient(t testing.TB, env *localawstest.Env, opts ...func(*kda.Options)) *kda.Client {
	return kda.NewFromConfig(env.AWSConfig(context.Background()), opts...)
}

func createApp(t *testing.T, c *kda.Client, name string) *kt.ApplicationDetail {
	t.Helper()
	out, err := c.CreateApplication(context.Background(), &kda.CreateApplicationInput{
		ApplicationName:      aws.String(name),
		RuntimeEnvironment:   kt.RuntimeEnvironmentFlink120,
		ServiceExecutionRole: aws.String(roleARN),
		ApplicationConfiguration: &kt.ApplicationConfiguration{
			ApplicationCodeConfiguration: &kt.ApplicationCodeConfiguration{
				CodeContentType: kt.CodeContentTypeZipfile,
				CodeContent: &kt.CodeContent{S3ContentLocation: &kt.S3ContentLocation{
					BucketARN: aws.String("arn:aws:s3:::code"), FileKey: aws.String("app.jar"),
				}},
			},
			EnvironmentProperties: &kt.EnvironmentProperties{PropertyGroups: []kt.PropertyGroup{{
				PropertyGroupId: aws.String("app"), PropertyMap: map[string]string{"stream": "in"},
			}}},
		},
		Tags: []kt.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
	})
	if err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	return out.ApplicationDetail
}

func describe(t *testing.T, c *kda.Client, name string) *kt.ApplicationDetail {
	t.Helper()
	out, err := c.DescribeApplication(context.Background(), &kda.DescribeApplicationInput{ApplicationName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeApplication: %v", err)
	}
	return out.ApplicationDetail
}

func TestKDALifecycle(t *testing.T) {
	env := localawstest.Start(t)
	c := kdaClient(t, env)
	ctx := context.Background()
	d := createApp(t, c, "app1")
	if d.ApplicationStatus != kt.ApplicationStatusReady || aws.ToInt64(d.ApplicationVersionId) != 1 || aws.ToString(d.ConditionalToken) == "" {
		t.Fatalf("unexpected detail after create: %+v", d)
	}
	if want := "arn:aws:kinesisanalytics:us-east-1:123456789012:application/app1"; aws.ToString(d.ApplicationARN) != want {
		t.Errorf("ARN = %s", aws.ToString(d.ApplicationARN))
	}
	fd := d.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription
	if fd.CheckpointConfigurationDescription.ConfigurationType != kt.ConfigurationTypeDefault || !aws.ToBool(fd.CheckpointConfigurationDescription.CheckpointingEnabled) ||
		aws.ToInt64(fd.CheckpointConfigurationDescription.CheckpointInterval) != 60000 {
		t.Errorf("checkpoint defaults: %+v", fd.CheckpointConfigurationDescription)
	}
	if fd.MonitoringConfigurationDescription.LogLevel != kt.LogLevelInfo {
		t.Errorf("monitoring defaults: %+v", fd.MonitoringConfigurationDescription)
	}
	if d.CreateTimestamp == nil || time.Since(*d.CreateTimestamp) > time.Minute {
		t.Errorf("CreateTimestamp = %v", d.CreateTimestamp)
	}
	loc := d.ApplicationConfigurationDescription.ApplicationCodeConfigurationDescription.CodeContentDescription.S3ApplicationCodeLocationDescription
	if aws.ToString(loc.FileKey) != "app.jar" {
		t.Errorf("code location: %+v", loc)
	}

	// Duplicate name.
	_, err := c.CreateApplication(ctx, &kda.CreateApplicationInput{ApplicationName: aws.String("app1"), RuntimeEnvironment: kt.RuntimeEnvironmentFlink120, ServiceExecutionRole: aws.String(roleARN)})
	var inUse *kt.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("duplicate create: want ResourceInUseException, got %v", err)
	}
	// Invalid runtime.
	_, err = c.CreateApplication(ctx, &kda.CreateApplicationInput{ApplicationName: aws.String("bad"), RuntimeEnvironment: "FLINK-9_9", ServiceExecutionRole: aws.String(roleARN)})
	var invalid *kt.InvalidArgumentException
	if !errors.As(err, &invalid) {
		t.Fatalf("bad runtime: want InvalidArgumentException, got %v", err)
	}
	// Not found.
	_, err = c.DescribeApplication(ctx, &kda.DescribeApplicationInput{ApplicationName: aws.String("nope")})
	var nf *kt.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("describe missing: want ResourceNotFoundException, got %v", err)
	}

	// Update with the version id: version 2, new token, checkpoint custom.
	up, err := c.UpdateApplication(ctx, &kda.UpdateApplicationInput{
		ApplicationName:             aws.String("app1"),
		CurrentApplicationVersionId: aws.Int64(1),
		ApplicationConfigurationUpdate: &kt.ApplicationConfigurationUpdate{
			FlinkApplicationConfigurationUpdate: &kt.FlinkApplicationConfigurationUpdate{
				CheckpointConfigurationUpdate: &kt.CheckpointConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom, CheckpointingEnabledUpdate: aws.Bool(false)},
				MonitoringConfigurationUpdate: &kt.MonitoringConfigurationUpdate{ConfigurationTypeUpdate: kt.ConfigurationTypeCustom, LogLevelUpdate: kt.LogLevelDebug},
			},
			ApplicationSnapshotConfigurationUpdate: &kt.ApplicationSnapshotConfigurationUpdate{SnapshotsEnabledUpdate: aws.Bool(true)},
		},
	})
	if err != nil {
		t.Fatalf("UpdateApplication: %v", err)
	}
	ud := up.ApplicationDetail
	if aws.ToInt64(ud.ApplicationVersionId) != 2 || aws.ToString(ud.ConditionalToken) == aws.ToString(d.ConditionalToken) || aws.ToString(up.OperationId) == "" {
		t.Fatalf("after update: version %d token %q", aws.ToInt64(ud.ApplicationVersionId), aws.ToString(ud.ConditionalToken))
	}
	cp := ud.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription.CheckpointConfigurationDescription
	if cp.ConfigurationType != kt.ConfigurationTypeCustom || aws.ToBool(cp.CheckpointingEnabled) {
		t.Errorf("checkpoint after update: %+v", cp)
	}
	if ud.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription.MonitoringConfigurationDescription.LogLevel != kt.LogLevelDebug {
		t.Errorf("log level not updated")
	}
	// Stale version id and stale token.
	_, err = c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(1),
		ServiceExecutionRoleUpdate: aws.String(roleARN)})
	var cme *kt.ConcurrentModificationException
	if !errors.As(err, &cme) {
		t.Fatalf("stale version: want ConcurrentModificationException, got %v", err)
	}
	_, err = c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app1"), ConditionalToken: d.ConditionalToken,
		ServiceExecutionRoleUpdate: aws.String(roleARN)})
	if !errors.As(err, &cme) {
		t.Fatalf("stale token: want ConcurrentModificationException, got %v", err)
	}
	// Current token works.
	up2, err := c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app1"), ConditionalToken: ud.ConditionalToken,
		ServiceExecutionRoleUpdate: aws.String("arn:aws:iam::123456789012:role/other")})
	if err != nil || aws.ToInt64(up2.ApplicationDetail.ApplicationVersionId) != 3 {
		t.Fatalf("token update: %v", err)
	}
	// Neither version nor token.
	_, err = c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app1"), ServiceExecutionRoleUpdate: aws.String(roleARN)})
	if !errors.As(err, &invalid) {
		t.Fatalf("no version: want InvalidArgumentException, got %v", err)
	}

	// Tags do not bump the version.
	arn := d.ApplicationARN
	if _, err := c.TagResource(ctx, &kda.TagResourceInput{ResourceARN: arn, Tags: []kt.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &kda.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &kda.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags: %v %+v", err, tags)
	}
	// Start: RUNNING, version unchanged.
	if _, err := c.StartApplication(ctx, &kda.StartApplicationInput{ApplicationName: aws.String("app1")}); err != nil {
		t.Fatal(err)
	}
	rd := describe(t, c, "app1")
	if rd.ApplicationStatus != kt.ApplicationStatusRunning || aws.ToInt64(rd.ApplicationVersionId) != 3 {
		t.Fatalf("after start: %s v%d", rd.ApplicationStatus, aws.ToInt64(rd.ApplicationVersionId))
	}
	_, err = c.StartApplication(ctx, &kda.StartApplicationInput{ApplicationName: aws.String("app1")})
	if !errors.As(err, &inUse) {
		t.Fatalf("start running: want ResourceInUseException, got %v", err)
	}
	// Snapshots.
	for i := 0; i < 3; i++ {
		if _, err := c.CreateApplicationSnapshot(ctx, &kda.CreateApplicationSnapshotInput{ApplicationName: aws.String("app1"), SnapshotName: aws.String(fmt.Sprintf("snap-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateApplicationSnapshot(ctx, &kda.CreateApplicationSnapshotInput{ApplicationName: aws.String("app1"), SnapshotName: aws.String("snap-0")})
	if !errors.As(err, &inUse) {
		t.Fatalf("duplicate snapshot: %v", err)
	}
	var snaps []kt.SnapshotDetails
	sp := kda.NewListApplicationSnapshotsPaginator(c, &kda.ListApplicationSnapshotsInput{ApplicationName: aws.String("app1"), Limit: aws.Int32(2)})
	for sp.HasMorePages() {
		p, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, p.SnapshotSummaries...)
	}
	if len(snaps) != 3 || snaps[0].SnapshotStatus != kt.SnapshotStatusReady {
		t.Fatalf("snapshots: %+v", snaps)
	}
	// Logging and VPC options bump the version.
	lo, err := c.AddApplicationCloudWatchLoggingOption(ctx, &kda.AddApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String("app1"), CurrentApplicationVersionId: aws.Int64(3),
		CloudWatchLoggingOption: &kt.CloudWatchLoggingOption{LogStreamARN: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/flink/app1:log-stream:app")}})
	if err != nil || aws.ToInt64(lo.ApplicationVersionId) != 4 || len(lo.CloudWatchLoggingOptionDescriptions) != 1 {
		t.Fatalf("add logging: %v %+v", err, lo)
	}
	_, err = c.AddApplicationCloudWatchLoggingOption(ctx, &kda.AddApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String("app1"),
		CloudWatchLoggingOption: &kt.CloudWatchLoggingOption{LogStreamARN: aws.String("not-an-arn")}})
	if !errors.As(err, &invalid) {
		t.Fatalf("bad log stream arn: %v", err)
	}
	dl, err := c.DeleteApplicationCloudWatchLoggingOption(ctx, &kda.DeleteApplicationCloudWatchLoggingOptionInput{ApplicationName: aws.String("app1"),
		CloudWatchLoggingOptionId: lo.CloudWatchLoggingOptionDescriptions[0].CloudWatchLoggingOptionId, CurrentApplicationVersionId: aws.Int64(4)})
	if err != nil || aws.ToInt64(dl.ApplicationVersionId) != 5 {
		t.Fatalf("delete logging: %v", err)
	}
	// Stop, then delete with the right CreateTimestamp.
	if _, err := c.StopApplication(ctx, &kda.StopApplicationInput{ApplicationName: aws.String("app1")}); err != nil {
		t.Fatal(err)
	}
	if st := describe(t, c, "app1").ApplicationStatus; st != kt.ApplicationStatusReady {
		t.Fatalf("after stop: %s", st)
	}
	_, err = c.DeleteApplication(ctx, &kda.DeleteApplicationInput{ApplicationName: aws.String("app1"), CreateTimestamp: aws.Time(time.Unix(0, 0))})
	if !errors.As(err, &invalid) {
		t.Fatalf("delete with wrong timestamp: %v", err)
	}
	if _, err := c.DeleteApplication(ctx, &kda.DeleteApplicationInput{ApplicationName: aws.String("app1"), CreateTimestamp: d.CreateTimestamp}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeApplication(ctx, &kda.DescribeApplicationInput{ApplicationName: aws.String("app1")}); !errors.As(err, &nf) {
		t.Fatalf("describe deleted: %v", err)
	}
	if n := env.Count("kinesisanalyticsv2", "UpdateApplication"); n != 5 {
		t.Errorf("Count(UpdateApplication) = %d, want 5", n)
	}
}

func TestKDAListApplicationsPagination(t *testing.T) {
	env := localawstest.Start(t)
	c := kdaClient(t, env)
	for i := 0; i < 7; i++ {
		createApp(t, c, fmt.Sprintf("app-%02d", i))
	}
	var names []string
	pages := 0
	p := kda.NewListApplicationsPaginator(c, &kda.ListApplicationsInput{Limit: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range out.ApplicationSummaries {
			names = append(names, aws.ToString(s.ApplicationName))
		}
	}
	if pages != 3 || len(names) != 7 || names[0] != "app-00" || names[6] != "app-06" {
		t.Fatalf("pages=%d names=%v", pages, names)
	}
	_, err := c.ListApplications(context.Background(), &kda.ListApplicationsInput{Limit: aws.Int32(51)})
	var invalid *kt.InvalidRequestException
	if !errors.As(err, &invalid) {
		t.Fatalf("limit 51: %v", err)
	}
}

func TestKDARunningUpdatePassesThroughUpdating(t *testing.T) {
	env := localawstest.Start(t)
	env.SetTransitionDelay(150 * time.Millisecond)
	c := kdaClient(t, env)
	ctx := context.Background()
	createApp(t, c, "app")
	if _, err := c.StartApplication(ctx, &kda.StartApplicationInput{ApplicationName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if st := describe(t, c, "app").ApplicationStatus; st != kt.ApplicationStatusStarting {
		t.Fatalf("status = %s, want STARTING", st)
	}
	// Updates are refused while STARTING.
	_, err := c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app"), CurrentApplicationVersionId: aws.Int64(1), ServiceExecutionRoleUpdate: aws.String(roleARN)})
	var inUse *kt.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("update while starting: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	if st := describe(t, c, "app").ApplicationStatus; st != kt.ApplicationStatusRunning {
		t.Fatalf("status = %s, want RUNNING", st)
	}
	up, err := c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app"), CurrentApplicationVersionId: aws.Int64(1), ServiceExecutionRoleUpdate: aws.String(roleARN)})
	if err != nil {
		t.Fatal(err)
	}
	if up.ApplicationDetail.ApplicationStatus != kt.ApplicationStatusUpdating {
		t.Fatalf("status after update = %s, want UPDATING", up.ApplicationDetail.ApplicationStatus)
	}
	time.Sleep(200 * time.Millisecond)
	if st := describe(t, c, "app").ApplicationStatus; st != kt.ApplicationStatusRunning {
		t.Fatalf("status = %s, want RUNNING again", st)
	}
	// Immediate transitions by default.
	env.SetTransitionDelay(0)
	if _, err := c.StopApplication(ctx, &kda.StopApplicationInput{ApplicationName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if st := describe(t, c, "app").ApplicationStatus; st != kt.ApplicationStatusReady {
		t.Fatalf("status = %s, want READY", st)
	}
}

func TestKDACompetingWriter(t *testing.T) {
	env := localawstest.Start(t)
	// No retries: the test wants to see each conflict.
	c := kdaClient(t, env, func(o *kda.Options) { o.Retryer = aws.NopRetryer{} })
	ctx := context.Background()
	createApp(t, c, "app")
	env.CompetingWriter("app", 2)
	attempts := 0
	for {
		attempts++
		d := describe(t, c, "app")
		_, err := c.UpdateApplication(ctx, &kda.UpdateApplicationInput{ApplicationName: aws.String("app"), ConditionalToken: d.ConditionalToken,
			ApplicationConfigurationUpdate: &kt.ApplicationConfigurationUpdate{ApplicationSystemRollbackConfigurationUpdate: &kt.ApplicationSystemRollbackConfigurationUpdate{RollbackEnabledUpdate: aws.Bool(true)}}})
		var cme *kt.ConcurrentModificationException
		if errors.As(err, &cme) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if attempts != 3 {
		t.Fatalf("attempts = %d, want 3", attempts)
	}
	d := describe(t, c, "app")
	if aws.ToInt64(d.ApplicationVersionId) != 4 || !aws.ToBool(d.ApplicationConfigurationDescription.ApplicationSystemRollbackConfigurationDescription.RollbackEnabled) {
		t.Fatalf("final version %d", aws.ToInt64(d.ApplicationVersionId))
	}
	if n := env.Count("localaws", "CompetingWrite"); n != 2 {
		t.Errorf("competing writes = %d", n)
	}
	if n := env.CountErrors("kinesisanalyticsv2", "UpdateApplication", "ConcurrentModificationException"); n != 2 {
		t.Errorf("conflicts = %d", n)
	}
	_ = retry.NewStandard
	_ = localaws.Fault{}
}
