package otelguard_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/otelguard"
)

// Serve the metrics in Prometheus format: the OpenTelemetry Prometheus
// exporter feeds a registry that promhttp serves at /metrics.
func Example_prometheus() {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutScopeInfo())
	if err != nil {
		log.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(context.Background())
	tel, err := otelguard.New(otelguard.Config{MeterProvider: mp})
	if err != nil {
		log.Fatal(err)
	}
	defer tel.Close()

	// A fake user pool stands in for Cognito.
	pool := cognitotest.NewPool(cognitotest.Config{})
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	v, err := cognitoguard.New([]cognitoguard.Pool{{
		UserPoolID: pool.PoolID(), Issuers: []string{pool.Issuer()}, ClientIDs: []string{pool.ClientID()},
	}}, cognitoguard.Config{OnVerify: tel.OnVerify})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	if _, err := tel.ObserveVerifier(v); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	token := pool.AccessToken("alice")
	v.Verify(ctx, token)
	v.Verify(ctx, token)
	v.Verify(ctx, "not-a-token")

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	for sc := bufio.NewScanner(res.Body); sc.Scan(); {
		line := sc.Text()
		for _, prefix := range []string{"cognitoguard_verifications_total", "cognitoguard_cache_hits_total", "cognitoguard_jwks_keys", "cognitoguard_jwks_fetches_total"} {
			if strings.HasPrefix(line, prefix+"{") || strings.HasPrefix(line, prefix+" ") {
				fmt.Println(strings.ReplaceAll(line, pool.Issuer(), "ISSUER"))
			}
		}
	}
	// Output:
	// cognitoguard_cache_hits_total 1
	// cognitoguard_jwks_fetches_total{cognitoguard_issuer="ISSUER"} 1
	// cognitoguard_jwks_keys{cognitoguard_issuer="ISSUER"} 2
	// cognitoguard_verifications_total{cognitoguard_operation="verify",cognitoguard_outcome="accepted",cognitoguard_token_use="access"} 2
	// cognitoguard_verifications_total{cognitoguard_operation="verify",cognitoguard_outcome="invalid_token",cognitoguard_reason="malformed"} 1
}
