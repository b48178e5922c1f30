package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// writeAndWait runs writeScript and WAIT on one connection to the key's
// master, so that WAIT counts the replicas that have this write
// ([Config.WaitReplicas]). It returns the script's result and the
// replicas acknowledging. On a Cluster whose slot moved (MOVED: the
// client's slot map is stale, as after resharding), it has the client
// reload its map and retries on the new master, within ctx.
func (w *writer) writeAndWait(ctx context.Context, key, field string, t, keep int64) (res, acked int64, err error) {
	cc, cluster := w.client.(*redis.ClusterClient)
	if !cluster {
		return w.writeAndWaitOn(ctx, w.client.(*redis.Client), key, field, t, keep)
	}
	for attempt := 0; ; attempt++ {
		m, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return 0, 0, err
		}
		res, acked, err = w.writeAndWaitOn(ctx, m, key, field, t, keep)
		addr, moved := redis.IsMovedError(err)
		if !moved || attempt == 2 {
			return res, acked, err
		}
		if err := awaitSlotMove(ctx, cc, key, addr); err != nil {
			return 0, 0, err
		}
	}
}

// awaitSlotMove has cc reload its slot map and waits until it names addr
// as key's master.
func awaitSlotMove(ctx context.Context, cc *redis.ClusterClient, key, addr string) error {
	cc.ReloadState(ctx) // asynchronous
	for {
		if m, err := cc.MasterForKey(ctx, key); err == nil && m.Options().Addr == addr {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slot moved to %s: %w", addr, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// writeAndWaitOn is writeAndWait on c, the client of the key's master: the
// script, then WAIT, on one connection, WAIT only if the write succeeded.
func (w *writer) writeAndWaitOn(ctx context.Context, c *redis.Client, key, field string, t, keep int64) (res, acked int64, err error) {
	conn := c.Conn()
	defer conn.Close()
	if res, err = writeScript.Run(ctx, conn, []string{key}, field, t, w.ttlMs, keep).Int64(); err != nil {
		return 0, 0, err
	}
	// WAIT gets half the budget, so that its own answer (how many
	// replicas) arrives before the call's deadline; 0 would block forever.
	acked, err = conn.Wait(ctx, w.replicas, max(w.run.timeout/2, time.Millisecond)).Result()
	return res, acked, err
}
