package configeval

import (
	"context"
	"errors"
	"fmt"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/rules"
)

// accountReader is a collector that reads account facts without an
// application. collect.Session has no such method yet; when it gains one
// with this signature it is used.
type accountReader interface {
	Account(ctx context.Context, needs []model.Facet) (*model.Application, error)
}

// errNoApplication says there is no application to read account facts
// through.
var errNoApplication = errors.New("no application in this Region")

// accountModel reads the facts an account-level rule needs.
//
// Without an account read in the collector, the account facets (trails,
// recorders), which the session reads once per account and caches, are
// taken from an application's model: every application carries the same.
// With no application in the Region it returns errNoApplication.
func (r *run) accountModel(ctx context.Context) (*model.Application, error) {
	needs := rules.Needs([]*rules.Rule{r.rc.Rule})
	if ar, ok := any(r.sess).(accountReader); ok {
		return ar.Account(ctx, needs)
	}
	apps, err := r.sess.ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	var last error
	for _, a := range apps {
		if a.ApplicationName == nil {
			continue
		}
		app, err := r.sess.Application(ctx, *a.ApplicationName, needs)
		if err == nil {
			return app, nil
		}
		last = err
	}
	if last != nil {
		return nil, fmt.Errorf("account facts are read through an application, and none could be read: %w", last)
	}
	return nil, errNoApplication
}
