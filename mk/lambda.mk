# Lambda functions under the AWS Lambda Runtime Interface Emulator (RIE).
#
#   make invoke FN=configrule EVENT=events/config/change.json
#
# builds the function for this machine (-tags lambda.norpc, as `make build`
# does for bin/functions), starts bin/localaws on a free loopback port
# (seeded with localaws-seed.json from the event's folder when there is one,
# or SEED=FILE; faults with FAULTS=FILE), runs the function under the RIE on
# two more loopback ports with a clean environment pointed at localaws
# (KDAGUARD_* variables of the caller are passed through), posts the event,
# prints the response and the time it took, and stops both. LOGS=1 also
# prints the function's and the emulator's output.

## invoke: make invoke FN=<function> EVENT=<file>: the function under the RIE against localaws
RIE_MODULE  := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d

.PHONY: invoke size

tools:: bin/aws-lambda-rie

bin/aws-lambda-rie:
	GOBIN=$(BIN) $(GO) install $(RIE_MODULE)@$(RIE_VERSION)

## fuzz: Config rule event and ruleParameters decoding
fuzz::
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' $(FUZZFLAGS) ./shared/configeval

FN    ?=
EVENT ?=
SEED  ?= $(wildcard $(dir $(EVENT))localaws-seed.json)
FAULTS ?=
LOGS  ?=

invoke: bin/aws-lambda-rie
	@if [ -z "$(FN)" ] || [ -z "$(EVENT)" ]; then echo "usage: make invoke FN=<function> EVENT=<file> [SEED=file] [FAULTS=file] [LOGS=1]"; exit 2; fi
	@if [ ! -d "functions/$(FN)" ]; then echo "invoke: no function functions/$(FN) (have: $(FUNCTIONS))"; exit 2; fi
	@if [ ! -f "$(EVENT)" ]; then echo "invoke: no event file $(EVENT)"; exit 2; fi
	@CGO_ENABLED=0 $(GO) build -tags lambda.norpc -o bin/functions/$(FN) ./functions/$(FN)
	@$(GO) build -o bin/localaws ./cmd/localaws
	@FN=$(FN) EVENT=$(EVENT) SEED=$(SEED) FAULTS=$(FAULTS) LOGS=$(LOGS) internal/rie/invoke.sh

## size: what sizes the functions' Lambda memory (infra/stack): peak RSS and CPU of the bootstraps under the RIE
size: bin/aws-lambda-rie
	$(GO) test -run '^$$' -bench 'ScheduledRun' -benchtime 1x -count 3 ./functions/configrule
	$(GO) test -run '^$$' -bench 'MergedRemediation' -benchtime 50x -count 3 ./functions/remediator
