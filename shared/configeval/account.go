package configeval

import (
	"context"
	"errors"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// accountReader is a collector that reads account facts without an
// application.
type accountReader interface {
	Account(ctx context.Context, needs []model.Facet) (*model.Application, error)
}

// accountModel reads the facts an account-level rule needs.
func (r *run) accountModel(ctx context.Context) (*model.Application, error) {
	needs := rules.Needs([]*rules.Rule{r.rc.Rule})
	if ar, ok := any(r.sess).(accountReader); ok {
		return ar.Account(ctx, needs)
	}
	// The account facets (trails, recorders) are read per account and cached
	// by the session; any application's model carries them.
	apps, err := r.sess.ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if a.ApplicationName == nil {
			continue
		}
		app, err := r.sess.Application(ctx, *a.ApplicationName, needs)
		if err == nil {
			return app, nil
		}
	}
	return nil, errors.New("the collector reads account facts only through an application, and none could be read")
}
