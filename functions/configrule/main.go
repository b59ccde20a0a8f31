// Command configrule is the AWS Config custom rule function (the bootstrap
// of a provided.al2023 Lambda). One deployment serves one Config rule per
// catalog rule: ruleParameters carry "ruleId" and that rule's parameters.
// This file is wiring only; the logic is in shared/configeval.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/kdaguard/kdaguard/shared/collect"
	"github.com/kdaguard/kdaguard/shared/configeval"
	"github.com/kdaguard/kdaguard/shared/settings"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)

	s, err := settings.FromEnv()
	if err != nil {
		logger.Error("invalid configuration: function not started", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := collect.Config(context.Background())
	if err != nil {
		logger.Error("AWS configuration could not be loaded: function not started", "error", err.Error())
		os.Exit(1)
	}
	h := &configeval.Handler{
		Clients:  collect.NewClients(cfg),
		Settings: s,
		Logger:   logger,
	}
	lambda.Start(h.Handle)
}
