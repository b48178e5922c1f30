package webapp

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cognitoguard/cognitoguard/revocation"
)

// newRedisStore returns the shared revocation store at addr and its
// closer.
//
// TODO: wire revocation.NewRedis once it lands.
func newRedisStore(ctx context.Context, addr string, log *slog.Logger) (revocation.Store, func(), error) {
	return nil, nil, errors.New("webapp: -redis-addr is not supported yet")
}
