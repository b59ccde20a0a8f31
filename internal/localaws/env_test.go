package localaws_test

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

func loadDefault(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
