package localaws_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kdaguard/kdaguard/internal/localaws/localawstest"
)

// Without UsePathStyle the SDK's endpoint rules use path-style for an IP
// endpoint, so production code configured only through AWS_ENDPOINT_URL works.
func TestS3WithoutPathStyleOption(t *testing.T) {
	env := localawstest.Start(t)
	env.SetEnv(t)
	cfg, err := loadDefault(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := s3.NewFromConfig(cfg)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPublicAccessBlock(context.Background(), &s3.GetPublicAccessBlockInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
}

// Virtual-host style requests (bucket in the Host header) are routed too.
func TestS3VirtualHostRouting(t *testing.T) {
	env := localawstest.Start(t)
	req, _ := http.NewRequest(http.MethodPut, env.URL+"/", nil)
	req.Host = "vh-bucket.localhost"
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c := s3.NewFromConfig(env.AWSConfig(context.Background()), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("vh-bucket")}); err != nil {
		t.Fatal(err)
	}
	if j := env.Journal(); j[0].Operation != "CreateBucket" || j[0].Params["Bucket"] != "vh-bucket" {
		t.Fatalf("journal %+v", j[0])
	}
}
