// Package redisclient builds the go-redis client of this module's
// commands and services from their flags, in one place: addresses,
// Sentinel master, TLS, credentials from the environment.
package redisclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options are a command's Redis connection settings.
type Options struct {
	Addrs  []string // one: standalone; several: Cluster seeds, or Sentinels with Master
	Master string   // Sentinel master name
	TLS    bool     // connect with TLS, verified by the system's roots
	CAFile string   // PEM file of the CAs that verify Redis instead (implies TLS)
	// Timeout bounds dialling, reads and writes; 0: go-redis's defaults.
	Timeout time.Duration
}

// New returns the client o describes. Credentials come from
// the environment variables REDIS_USERNAME and REDIS_PASSWORD, never from
// flags (which other users of the machine can read). Calls honour their
// context's deadline (ContextTimeoutEnabled).
func New(o Options) (redis.UniversalClient, error) {
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
