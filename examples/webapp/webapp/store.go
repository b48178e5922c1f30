package webapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard/revocation"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// newRedisStore returns the revocation store shared through Redis at addrs
// (one host:port, or several, comma-separated, for a Redis Cluster), once
// its subscription is up, and the function that closes it and its client.
// Credentials come from REDIS_USERNAME and REDIS_PASSWORD.
func newRedisStore(ctx context.Context, addrs string, log *slog.Logger) (revocation.Store, func(), error) {
	var list []string
	for a := range strings.SplitSeq(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return nil, nil, errors.New("webapp: -redis-addr is empty")
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:    list,
		Username: os.Getenv("REDIS_USERNAME"),
		Password: os.Getenv("REDIS_PASSWORD"),
		// Calls honour their context's deadline.
		ContextTimeoutEnabled: true,
	})
	st, err := redisstore.New(client, redisstore.Config{Logger: log})
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	closeAll := func() {
		st.Close()
		client.Close()
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Ready(rctx); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("webapp: Redis at %s: %w", addrs, err)
	}
	return st, closeAll, nil
}
