// Command infra is kdaguard's CDK app (cdk.json runs it): it reads the
// context parameters, checks that the Lambda binaries are built, and
// synthesizes the stack with the cdk-nag AwsSolutions checks applied.
//
//	make build && npx cdk synth -c mode=report
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/kdaguard/kdaguard/infra/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kdaguard infra:", err)
		os.Exit(1)
	}
}

func run() error {
	// The binaries first: Code_FromAsset panics on a missing folder.
	dist := os.Getenv("KDAGUARD_DIST_DIR")
	if dist == "" {
		dist = "dist"
	}
	if err := stack.CheckDist(dist); err != nil {
		return err
	}
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := stack.ConfigFromContext(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) })
	if err != nil {
		return err
	}
	name := "Kdaguard"
	if v, ok := app.Node().TryGetContext(jsii.String("stackName")).(string); ok && v != "" {
		name = v
	}
	if _, err := stack.New(app, name, &stack.Props{Config: cfg, DistDir: dist}); err != nil {
		return err
	}
	stack.AddChecks(app)
	app.Synth(nil)
	return nil
}
