package collect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2"
	"github.com/aws/aws-sdk-go-v2/service/kinesisanalyticsv2/types"

	"github.com/kdaguard/kdaguard/shared/model"
	"github.com/kdaguard/kdaguard/shared/source/describe"
)

// Application reads DescribeApplication and ListTagsForResource, then loads
// only the given facets (rules.Needs of the selected rules). Reads that do
// not depend on each other run concurrently within the bound; Streams needs
// the execution role first, so asking for Streams reads Role too (for a
// non-SQL application).
//
// It returns an error only when the application itself cannot be described:
// ErrNotFound (wrapping the SDK's ResourceNotFoundException) when it does
// not exist; the context's error when it ends during the reads. Every failed
// related read becomes model.Unknown with a reason.
// Facets not asked for stay unknown ("not read").
func (s *Session) Application(ctx context.Context, name string, needs []model.Facet) (*model.Application, error) {
	d, err := s.describe(ctx, name)
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) || hasCode(err, "ResourceNotFoundException") {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, name, err)
		}
		return nil, fmt.Errorf("describe application %s: %w", name, err)
	}
	app := describe.FromDetail(d)

	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	run(func() { app.Tags = s.tags(ctx, app) })

	want := func(f model.Facet) bool { return slices.Contains(needs, f) }
	roleDone := make(chan struct{})
	if want(model.FacetRole) || want(model.FacetStreams) && !app.IsSQL() {
		run(func() {
			defer close(roleDone)
			app.Related.Role = s.role(ctx, app)
		})
	} else {
		close(roleDone)
	}
	if want(model.FacetRoleUsers) {
		run(func() { app.Related.RoleUsers = s.roleUsers(ctx, app) })
	}
	if want(model.FacetKey) {
		run(func() { app.Related.Key = s.key(ctx, app) })
	}
	if want(model.FacetLogGroups) {
		run(func() { app.Related.LogGroups = s.logGroups(ctx, app) })
	}
	if want(model.FacetSubnets) {
		run(func() { app.Related.Subnets = s.subnets(ctx, app) })
	}
	if want(model.FacetSecurityGroups) {
		run(func() { app.Related.SecurityGroups = s.securityGroups(ctx, app) })
	}
	if want(model.FacetBucket) {
		run(func() { app.Related.Bucket = s.bucket(ctx, app) })
	}
	if want(model.FacetStreams) {
		run(func() {
			<-roleDone
			app.Related.Streams = s.streams(ctx, app)
		})
	}
	if want(model.FacetAlarms) {
		run(func() { app.Related.Alarms = s.alarms(ctx, app) })
	}
	if want(model.FacetSnapshots) {
		run(func() { app.Related.Snapshots = s.snapshots(ctx, app) })
	}
	if want(model.FacetTrails) {
		run(func() { app.Related.Trails = s.trails(ctx) })
	}
	if want(model.FacetRecorders) {
		run(func() { app.Related.Recorders = s.recorders(ctx) })
	}
	wg.Wait()
	// A cancelled or timed-out invocation has no answer to give: its unknowns
	// would say "could not verify" about what was never tried.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read application %s: %w", name, err)
	}
	return app, nil
}

// describe reads DescribeApplication once per session.
func (s *Session) describe(ctx context.Context, name string) (*types.ApplicationDetail, error) {
	return once(ctx, s, "kda:app:"+name, func(ctx context.Context) (*types.ApplicationDetail, error) {
		out, err := call(ctx, s, func(ctx context.Context) (*kinesisanalyticsv2.DescribeApplicationOutput, error) {
			return s.c.KDA.DescribeApplication(ctx, &kinesisanalyticsv2.DescribeApplicationInput{ApplicationName: aws.String(name)})
		})
		if err != nil {
			return nil, s.fail(ctx, "kinesisanalytics:DescribeApplication", name, err)
		}
		if out.ApplicationDetail == nil {
			return nil, s.fail(ctx, "kinesisanalytics:DescribeApplication", name, errors.New("no ApplicationDetail in the response"))
		}
		return out.ApplicationDetail, nil
	})
}

// ListApplications lists every application in the Region (all pages), once
// per session.
func (s *Session) ListApplications(ctx context.Context) ([]types.ApplicationSummary, error) {
	l, err := s.listApplications(ctx)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	return slices.Clone(l), nil
}

func (s *Session) listApplications(ctx context.Context) ([]types.ApplicationSummary, error) {
	return once(ctx, s, "kda:list", func(ctx context.Context) ([]types.ApplicationSummary, error) {
		var all []types.ApplicationSummary
		p := kinesisanalyticsv2.NewListApplicationsPaginator(s.c.KDA, &kinesisanalyticsv2.ListApplicationsInput{})
		for p.HasMorePages() {
			page, err := call(ctx, s, func(ctx context.Context) (*kinesisanalyticsv2.ListApplicationsOutput, error) {
				return p.NextPage(ctx)
			})
			if err != nil {
				return nil, s.fail(ctx, "kinesisanalytics:ListApplications", "", err)
			}
			all = append(all, page.ApplicationSummaries...)
		}
		return all, nil
	})
}

func (s *Session) tags(ctx context.Context, app *model.Application) model.Fact[map[string]string] {
	if app.ARN == "" {
		return model.Unknown[map[string]string]("DescribeApplication returned no ApplicationARN")
	}
	tags, err := once(ctx, s, "kda:tags:"+app.ARN, func(ctx context.Context) (map[string]string, error) {
		out, err := call(ctx, s, func(ctx context.Context) (*kinesisanalyticsv2.ListTagsForResourceOutput, error) {
			return s.c.KDA.ListTagsForResource(ctx, &kinesisanalyticsv2.ListTagsForResourceInput{ResourceARN: aws.String(app.ARN)})
		})
		if err != nil {
			return nil, s.fail(ctx, "kinesisanalytics:ListTagsForResource", app.ARN, err)
		}
		m := make(map[string]string, len(out.Tags))
		for _, t := range out.Tags {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return m, nil
	})
	if err != nil {
		return model.Unknown[map[string]string](why(err))
	}
	return model.Known(tags)
}

// snapshots lists the application's snapshots (all pages).
func (s *Session) snapshots(ctx context.Context, app *model.Application) model.Fact[[]model.Snapshot] {
	snaps, err := once(ctx, s, "kda:snapshots:"+app.Name, func(ctx context.Context) ([]model.Snapshot, error) {
		out := []model.Snapshot{}
		p := kinesisanalyticsv2.NewListApplicationSnapshotsPaginator(s.c.KDA,
			&kinesisanalyticsv2.ListApplicationSnapshotsInput{ApplicationName: aws.String(app.Name)})
		for p.HasMorePages() {
			page, err := call(ctx, s, func(ctx context.Context) (*kinesisanalyticsv2.ListApplicationSnapshotsOutput, error) {
				return p.NextPage(ctx)
			})
			if err != nil {
				return nil, s.fail(ctx, "kinesisanalytics:ListApplicationSnapshots", app.ARN, err)
			}
			for _, sd := range page.SnapshotSummaries {
				out = append(out, model.Snapshot{Name: aws.ToString(sd.SnapshotName), Status: string(sd.SnapshotStatus),
					CreatedAt: aws.ToTime(sd.SnapshotCreationTimestamp)})
			}
		}
		return out, nil
	})
	if err != nil {
		return model.Unknown[[]model.Snapshot](why(err))
	}
	return model.Known(snaps)
}

// Account reads only the account-level facets (trails, recorders) into a
// model with no application: what account-level rules (KDA.MON.5,
// KDA.CMP.1) judge, whether or not the Region has an application.
func (s *Session) Account(ctx context.Context, account string, needs []model.Facet) (*model.Application, error) {
	app := &model.Application{Account: account}
	var wg sync.WaitGroup
	if slices.Contains(needs, model.FacetTrails) {
		wg.Go(func() { app.Related.Trails = s.trails(ctx) })
	}
	if slices.Contains(needs, model.FacetRecorders) {
		wg.Go(func() { app.Related.Recorders = s.recorders(ctx) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read account facts: %w", err)
	}
	return app, nil
}
