package localawstest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	kt "github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
)

// The sizing benchmarks rely on SeedAccount's applications having every
// related resource; the benchmarks do not run in make test, this does.
func TestSeedAccount(t *testing.T) {
	env := localawstest.Start(t)
	ctx := context.Background()
	names, err := env.SeedAccount(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 || names[2] != "app-002" {
		t.Fatalf("names %v", names)
	}
	kda := kinesisanalyticsv2.NewFromConfig(env.AWSConfig(ctx))
	for _, n := range names {
		d, err := kda.DescribeApplication(ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String(n)})
		if err != nil {
			t.Fatal(err)
		}
		a := d.ApplicationDetail
		c := a.ApplicationConfigurationDescription
		if len(a.CloudWatchLoggingOptionDescriptions) != 1 || c.ApplicationEncryptionConfigurationDescription.KeyType != kt.KeyTypeCustomerManagedKey ||
			len(c.VpcConfigurationDescriptions) != 1 || c.ApplicationCodeConfigurationDescription == nil {
			t.Errorf("%s lacks a related resource: %+v", n, a)
		}
	}
	for _, op := range []struct {
		service, op string
	}{{"iam", "CreateRole"}, {"kms", "CreateKey"}, {"cloudwatchlogs", "CreateLogGroup"}, {"kinesis", "CreateStream"}} {
		if got := env.Count(op.service, op.op); got != 3 {
			t.Errorf("%s:%s %d times, want one per application", op.service, op.op, got)
		}
	}
}
