package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/examples/frameworks/internal/fixture"
)

func TestRouter(t *testing.T) {
	f := fixture.New(t)
	f.Run(t, newRouter(f.Verifier, nil))
}

// TestRun starts the program on a free port and asks it for /me.
func TestRun(t *testing.T) {
	f := fixture.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	var stdout bytes.Buffer
	go func() {
		errc <- run(ctx, []string{
			"-addr", "127.0.0.1:0",
			"-user-pool-id", f.Pool.PoolID(),
			"-client-id", f.Pool.ClientID(),
			"-issuer", f.Pool.Issuer(),
		}, &stdout, io.Discard, func(addr string) { addrc <- addr })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("run: %v", err)
	}
	for _, tc := range []struct {
		token  string
		status int
	}{{f.Pool.AccessToken("alice"), 200}, {"", 401}} {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/me", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET /me = %d, want %d", resp.StatusCode, tc.status)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
	if err := run(t.Context(), []string{"-client-id", "x"}, io.Discard, io.Discard, nil); err == nil {
		t.Error("run without -user-pool-id succeeded")
	}
}
