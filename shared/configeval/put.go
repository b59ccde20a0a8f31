package configeval

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
)

// put sends the evaluations in batches of at most MaxBatch with the event's
// result token. A batch that fails (after the SDK's retries) does not stop
// the others, but makes the invocation fail; evaluations Config reports as
// failed are sent once more, and still failing they fail the invocation.
func (r *run) put(ctx context.Context, evals []evaluation) error {
	testMode := r.ev.ResultToken == TestModeToken
	if len(evals) == 0 {
		r.log.InfoContext(ctx, "no evaluations to report", "testMode", testMode)
		return nil
	}
	batches := (len(evals) + MaxBatch - 1) / MaxBatch
	var errs []error
	for b := 0; b < batches; b++ {
		chunk := evals[b*MaxBatch : min(len(evals), (b+1)*MaxBatch)]
		in := make([]cfgtypes.Evaluation, len(chunk))
		counts := map[string]int{}
		for i, ev := range chunk {
			in[i] = cfgtypes.Evaluation{
				ComplianceResourceType: aws.String(ev.ResourceType),
				ComplianceResourceId:   aws.String(ev.ResourceID),
				ComplianceType:         cfgtypes.ComplianceType(ev.Compliance),
				OrderingTimestamp:      aws.Time(ev.At),
			}
			if ev.Annotation != "" {
				in[i].Annotation = aws.String(ev.Annotation)
			}
			counts[ev.Compliance]++
		}
		failed, err := r.putOnce(ctx, in, testMode)
		if err == nil && len(failed) > 0 {
			r.log.WarnContext(ctx, "PutEvaluations rejected evaluations; retrying them once", "batch", b+1, "failed", len(failed))
			failed, err = r.putOnce(ctx, failed, testMode)
			if err == nil && len(failed) > 0 {
				err = fmt.Errorf("AWS Config rejected %d evaluations twice (first: %s %s)", len(failed),
					aws.ToString(failed[0].ComplianceResourceType), aws.ToString(failed[0].ComplianceResourceId))
			}
		}
		if err != nil {
			r.log.ErrorContext(ctx, "PutEvaluations failed", "batch", b+1, "batches", batches, "evaluations", len(chunk), "error", err.Error())
			errs = append(errs, fmt.Errorf("PutEvaluations batch %d of %d (%d evaluations): %w", b+1, batches, len(chunk), err))
			continue
		}
		r.log.InfoContext(ctx, "evaluations reported", "batch", b+1, "batches", batches, "evaluations", len(chunk),
			"compliant", counts[Compliant], "nonCompliant", counts[NonCompliant], "notApplicable", counts[NotApplicable], "testMode", testMode)
	}
	return errors.Join(errs...)
}

func (r *run) putOnce(ctx context.Context, evals []cfgtypes.Evaluation, testMode bool) ([]cfgtypes.Evaluation, error) {
	out, err := r.h.Clients.Config.PutEvaluations(ctx, &configservice.PutEvaluationsInput{
		ResultToken: aws.String(r.ev.ResultToken),
		Evaluations: evals,
		TestMode:    testMode,
	})
	if err != nil {
		return nil, err
	}
	return out.FailedEvaluations, nil
}
