# infra: the CDK app (infra/, cdk.json) and its Node tools (package.json).
# The tests that run `cdk synth` and cfn-guard live in infra/ and run with
# `make unit`, after `tools` and `build` (see the top Makefile's `test`).

CDK := ./node_modules/.bin/cdk

## tools: the CDK CLI and cfn-guard with the AWS Control Tower rules (npm ci, from package-lock.json)
tools:: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## synth: cdk synth into cdk.out, offline (CTX='-c mode=remediate ...' for context parameters)
synth: build node_modules/.package-lock.json
	AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true $(CDK) synth -q --no-notices $(CTX)
	@echo "template: cdk.out/$${STACK:-Kdaguard}.template.json"

## infra-test: only the CDK app's tests (stack assertions, cdk-nag, cdk synth, cfn-guard)
infra-test: tools build
	$(GO) test -count=1 ./infra/...

.PHONY: synth infra-test
