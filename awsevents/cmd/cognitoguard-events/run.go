package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
)

// runFlags are the flags of run.
type runFlags struct {
	common
	queueURL                        string
	visibility, waitTime            time.Duration
	reconcileEvery, reconcileWindow time.Duration
	statsEvery, lagWarn             time.Duration
}

func parseRun(args []string, stderr io.Writer) (*runFlags, error) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.register(fs)
	fs.StringVar(&f.queueURL, "queue-url", "", "`URL` of the SQS queue the EventBridge rule fills (required)")
	fs.DurationVar(&f.visibility, "visibility", events.DefaultVisibility, "the queue's visibility `timeout` (MUST match the queue's)")
	fs.DurationVar(&f.waitTime, "wait-time", awsevents.MaxWaitTime, "long poll `duration` of each receive, at most 20s")
	fs.DurationVar(&f.reconcileEvery, "reconcile-every", awsevents.DefaultReconcileEvery, "period of the CloudTrail reconciliation; 0 turns it off")
	fs.DurationVar(&f.reconcileWindow, "reconcile-window", awsevents.DefaultReconcileWindow, "least `range` each reconciliation looks back over")
	fs.DurationVar(&f.statsEvery, "stats-every", time.Minute, "period of the lag and queue-depth log record; 0 turns it off")
	fs.DurationVar(&f.lagWarn, "lag-warn", events.DefaultLagWarn, "age of the oldest unapplied event logged at Warn")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if f.queueURL == "" {
		return nil, fmt.Errorf("%w: -queue-url is required", errUsage)
	}
	if f.visibility < time.Second || f.waitTime < 0 || f.waitTime > awsevents.MaxWaitTime || f.reconcileEvery < 0 || f.statsEvery < 0 {
		return nil, fmt.Errorf("%w: -visibility ≥ 1s, -wait-time within 0..20s, -reconcile-every and -stats-every ≥ 0", errUsage)
	}
	return &f, f.check()
}

// runCmd consumes the queue until ctx is done.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseRun(args, stderr)
	if err != nil {
		return err
	}
	log := logger(stderr)
	s, err := f.openStore(log)
	if err != nil {
		return err
	}
	defer s.Close()
	var counts outcomes
	cons, err := f.consumer(s, f.visibility, log, counts.add)
	if err != nil {
		return err
	}
	cfg, err := awsConfig(ctx, f.region)
	if err != nil {
		return err
	}
	q, err := awsevents.NewSQS(f.sqsClient(cfg), f.queueURL, awsevents.SQSConfig{WaitTime: f.waitTime})
	if err != nil {
		return err
	}
	var rec *awsevents.Reconciler
	if f.reconcileEvery > 0 {
		b, err := f.backfill(cfg, cons, s, log)
		if err != nil {
			return err
		}
		if rec, err = awsevents.NewReconciler(b, s.client, awsevents.ReconcileConfig{
			Every: f.reconcileEvery, Window: f.reconcileWindow, Key: f.reconcileKey(), Logger: log,
		}); err != nil {
			return err
		}
	}
	log.Info("consuming", slog.String("queue", f.queueURL), slog.Any("pools", f.poolIDs),
		slog.Bool("passwords", f.passwords), slog.Bool("sessions", f.sessions), slog.String("store", f.redisAddr))
	var wg sync.WaitGroup
	bg, stop := context.WithCancel(ctx)
	if rec != nil {
		wg.Go(func() { rec.Run(bg) })
	}
	if f.statsEvery > 0 {
		wg.Go(func() { stats(bg, cons, q, &counts, f.statsEvery, f.lagWarn, log) })
	}
	err = cons.Run(ctx, q)
	stop()
	wg.Wait()
	log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "stopped", counts.attr())
	return err
}

// stats logs the lag, the queue depth and the outcome counts every period, at Warn beyond
// lagWarn.
func stats(ctx context.Context, c *events.Consumer, q *awsevents.SQS, counts *outcomes, period, lagWarn time.Duration, log *slog.Logger) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		oldest, inHand := c.OldestUnapplied()
		d, err := q.Depth(ctx)
		if err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "queue depth unknown", slog.Any("error", err))
		}
		lvl := slog.LevelInfo
		if oldest > lagWarn {
			lvl = slog.LevelWarn
		}
		log.LogAttrs(ctx, lvl, "lag", slog.Duration("oldest_unapplied", oldest), slog.Int("in_hand", inHand),
			slog.Int("queue_visible", d.Visible), slog.Int("queue_in_flight", d.InFlight), slog.Int("queue_delayed", d.Delayed),
			counts.attr())
	}
}
