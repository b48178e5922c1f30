package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/revocation"
)

// backfillCmd records the sign-outs of CloudTrail's event history over
// the last -since, holding the reconciliation lock, and prints the counts.
func backfillCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f common
	f.register(fs)
	since := fs.Duration("since", revocation.DefaultTTL, "`range` to look back over, at most the record TTL (older sign-outs revoke only expired tokens)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *since <= 0 || *since > revocation.DefaultTTL {
		return fmt.Errorf("%w: -since within 0..%v and no arguments", errUsage, revocation.DefaultTTL)
	}
	if err := f.check(); err != nil {
		return err
	}
	log := logger(stderr)
	s, err := f.openStore(log)
	if err != nil {
		return err
	}
	defer s.Close()
	cons, err := f.consumer(s, 0, log, nil)
	if err != nil {
		return err
	}
	cfg, err := awsConfig(ctx, f.region)
	if err != nil {
		return err
	}
	b, err := f.backfill(cfg, cons, s, log)
	if err != nil {
		return err
	}
	lock, err := awsevents.NewLock(s.client, f.reconcileKey()+":lock", 30*time.Minute)
	if err != nil {
		return err
	}
	held, err := lock.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("another consumer is backfilling (%w); retry later", err)
	}
	defer held.Release(context.WithoutCancel(ctx))
	end := time.Now()
	st, err := b.Run(ctx, end.Add(-*since), end)
	out, _ := json.Marshal(st)
	fmt.Fprintf(stdout, "%s\n", out)
	return err
}
