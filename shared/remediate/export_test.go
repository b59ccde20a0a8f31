package remediate

import (
	"context"

	"github.com/kdaguard/kdaguard/shared/model"
)

// LoadForTest reads with the default collector.
func LoadForTest(ctx context.Context, e *Executor, name string, _ []model.Facet) (*model.Application, error) {
	if err := e.init(); err != nil {
		return nil, err
	}
	return e.load(ctx, name)
}
