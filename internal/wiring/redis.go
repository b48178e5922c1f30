package wiring

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions are a command's Redis connection settings.
type RedisOptions struct {
	Addrs  []string // one: standalone; several: Cluster seeds, or Sentinels with Master
	Master string   // Sentinel master name
	TLS    bool     // connect with TLS, verified by the system's roots
	CAFile string   // PEM file of the CAs that verify Redis instead (implies TLS)
	// Timeout bounds dialling, reads and writes; 0: go-redis's defaults.
	Timeout time.Duration
}

// NewRedisClient returns the client o describes: addresses, Sentinel
// master, TLS. Credentials come from
// the environment variables REDIS_USERNAME and REDIS_PASSWORD, never from
// flags (which other users of the machine can read). Calls honour their
// context's deadline (ContextTimeoutEnabled).
func NewRedisClient(o RedisOptions) (redis.UniversalClient, error) {
	ro := &redis.UniversalOptions{
		Addrs:                 o.Addrs,
		MasterName:            o.Master,
		Username:              os.Getenv("REDIS_USERNAME"),
		Password:              os.Getenv("REDIS_PASSWORD"),
		DialTimeout:           o.Timeout,
		ReadTimeout:           o.Timeout,
		WriteTimeout:          o.Timeout,
		ContextTimeoutEnabled: true,
	}
	if o.TLS || o.CAFile != "" {
		ro.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("-redis-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-redis-ca: no PEM certificate in %s", o.CAFile)
		}
		ro.TLSConfig.RootCAs = roots
	}
	return redis.NewUniversalClient(ro), nil
}

// LogRedisTo sends go-redis's process-wide log lines (connection
// failures) to l at Warn, so that a service's logs stay one stream.
func LogRedisTo(l *slog.Logger) { redis.SetLogger(redisLogger{l}) }

// redisLogger adapts slog to go-redis's logging interface.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.LogAttrs(ctx, slog.LevelWarn, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}
