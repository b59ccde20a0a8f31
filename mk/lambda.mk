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

.PHONY: invoke

tools:: bin/aws-lambda-rie

bin/aws-lambda-rie:
	GOBIN=$(BIN) $(GO) install $(RIE_MODULE)@$(RIE_VERSION)

## fuzz: Config rule event and ruleParameters decoding
fuzz::
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./shared/configeval

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
	@set -euo pipefail; \
	free_port() { \
	  local p; \
	  for _ in $$(seq 1 200); do \
	    p=$$(( 20000 + RANDOM % 40000 )); \
	    if ! (exec 3<>/dev/tcp/127.0.0.1/$$p) 2>/dev/null; then echo $$p; return 0; fi; \
	  done; \
	  echo "invoke: no free port" >&2; return 1; \
	}; \
	wait_port() { \
	  for _ in $$(seq 1 300); do \
	    if (exec 3<>/dev/tcp/127.0.0.1/$$1) 2>/dev/null; then return 0; fi; \
	    sleep 0.02; \
	  done; \
	  echo "invoke: nothing listening on 127.0.0.1:$$1 ($$2)" >&2; return 1; \
	}; \
	tmp=$$(mktemp -d); pids=""; \
	cleanup() { for p in $$pids; do kill $$p 2>/dev/null || true; done; wait 2>/dev/null || true; \
	  if [ -n "$(LOGS)" ]; then echo "--- localaws"; cat $$tmp/localaws.log; echo "--- function (RIE)"; cat $$tmp/rie.log; fi; \
	  rm -rf $$tmp; }; \
	trap cleanup EXIT; \
	lport=$$(free_port); \
	largs="--addr 127.0.0.1:$$lport"; \
	if [ -n "$(SEED)" ]; then largs="$$largs --seed $(SEED)"; fi; \
	if [ -n "$(FAULTS)" ]; then largs="$$largs --faults $(FAULTS)"; fi; \
	bin/localaws $$largs >$$tmp/localaws.log 2>&1 & pids="$$pids $$!"; \
	wait_port $$lport localaws || { cat $$tmp/localaws.log; exit 1; }; \
	eport=$$(free_port); aport=$$(free_port); \
	while [ "$$aport" = "$$eport" ] || [ "$$aport" = "$$lport" ] || [ "$$eport" = "$$lport" ]; do eport=$$(free_port); aport=$$(free_port); done; \
	kenv=$$(env | grep -E '^KDAGUARD_[A-Z_]+=' || true); \
	env -i PATH="$$PATH" HOME="$$HOME" \
	  AWS_ENDPOINT_URL=http://127.0.0.1:$$lport AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
	  AWS_ACCESS_KEY_ID=AKIALOCALAWSINVOKE01 AWS_SECRET_ACCESS_KEY=localaws-invoke-secret \
	  AWS_S3_USE_PATH_STYLE=true AWS_EC2_METADATA_DISABLED=true \
	  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	  AWS_LAMBDA_FUNCTION_NAME=kdaguard-$(FN) AWS_LAMBDA_FUNCTION_TIMEOUT=300 \
	  $$kenv \
	  bin/aws-lambda-rie --log-level error \
	    --runtime-interface-emulator-address 127.0.0.1:$$eport \
	    --runtime-api-address 127.0.0.1:$$aport \
	    $(CURDIR)/bin/functions/$(FN) >$$tmp/rie.log 2>&1 & pids="$$pids $$!"; \
	wait_port $$eport aws-lambda-rie || { cat $$tmp/rie.log; exit 1; }; \
	start=$$(date +%s%N); \
	if command -v curl >/dev/null; then \
	  curl -sS -X POST -H 'Content-Type: application/json' --data-binary @$(EVENT) \
	    http://127.0.0.1:$$eport/2015-03-31/functions/function/invocations >$$tmp/response; \
	else \
	  len=$$(wc -c <$(EVENT)); \
	  exec 4<>/dev/tcp/127.0.0.1/$$eport; \
	  printf 'POST /2015-03-31/functions/function/invocations HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n' $$len >&4; \
	  cat $(EVENT) >&4; \
	  sed '1,/^\r$$/d' <&4 >$$tmp/response; exec 4<&-; \
	fi; \
	end=$$(date +%s%N); \
	cat $$tmp/response; echo; \
	echo "invoke: $(FN) $(EVENT): $$(( (end - start) / 1000000 )) ms (cold start included)" >&2; \
	if grep -q '"errorType"' $$tmp/response; then exit 1; fi
