package keyfetch

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		wantErr string // "" accepted
	}{
		{"https://public-keys.auth.elb.eu-west-1.amazonaws.com", ""},
		{"HTTPS://example.com/jwks", ""},
		{"http://127.0.0.1:9229/keys", ""},
		{"http://127.9.9.9/keys", ""},
		{"http://[::1]:80/keys", ""},
		{"http://localhost/keys", ""},
		{"http://example.com/keys", "must be https"},
		{"http://localhost.example.com/keys", "must be https"},
		{"http://10.0.0.1/keys", "must be https"},
		{"ftp://example.com/keys", "not an absolute"},
		{"/keys", "not an absolute"},
		{"https:///keys", "not an absolute"},
		{"https://exa mple.com/", "invalid character"},
	} {
		_, err := CheckURL(tc.url)
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckURL(%q) = %v, want %q", tc.url, err, tc.wantErr)
		}
	}
}

func TestClient(t *testing.T) {
	c := Client(nil, 3*time.Second)
	if c == http.DefaultClient || c.Timeout != 3*time.Second || c.CheckRedirect == nil {
		t.Fatalf("default client: %+v", c)
	}
	own := &http.Client{Timeout: time.Second}
	cc := Client(own, 5*time.Second)
	if cc == own || own.CheckRedirect != nil || cc.Timeout != time.Second {
		t.Fatal("a given client must be copied, kept as it is, and keep its own timeout")
	}
	req := func(u string) *http.Request { r, _ := http.NewRequest(http.MethodGet, u, nil); return r }
	via := []*http.Request{req("https://a.example/keys")}
	for _, client := range []*http.Client{c, cc} {
		if err := client.CheckRedirect(req("http://a.example/keys"), via); !errors.Is(err, ErrDowngrade) {
			t.Errorf("https→http: %v, want ErrDowngrade", err)
		}
		if err := client.CheckRedirect(req("https://b.example/keys"), via); err != nil {
			t.Errorf("https→https: %v", err)
		}
	}
}

// TestStart: a shared fetch runs under none of its callers' contexts; a
// caller going away gets its own context's error, the others the
// outcome; Close cancels a fetch in flight and waits for it.
func TestStart(t *testing.T) {
	o := NewOwner()
	release := make(chan struct{})
	ctx, goAway := context.WithCancel(t.Context())
	c := Start(o, ctx, time.Minute, func(ctx context.Context) (int, error) {
		select {
		case <-release:
			return 42, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	goAway()
	if _, err := c.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller gone: %v", err)
	}
	close(release)
	if v, err := c.Wait(t.Context()); v != 42 || err != nil {
		t.Fatalf("another caller: %d, %v", v, err)
	}

	blocked := Start(o, t.Context(), time.Minute, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	o.Close()
	if _, err := blocked.Wait(t.Context()); !errors.Is(err, context.Canceled) {
		t.Fatalf("after Close: %v", err)
	}
	late := Start(o, t.Context(), time.Minute, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	if _, err := late.Wait(t.Context()); !errors.Is(err, context.Canceled) {
		t.Fatalf("a fetch started after Close: %v", err)
	}
	o.Close() // idempotent
}
