package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/middleware"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
	"github.com/cognitoguard/cognitoguard/signout"
)

// instance is one API server with its own Verifier and store.
type instance struct {
	name   string
	srv    *httptest.Server
	v      *cognitoguard.Verifier
	store  *redisstore.Store // nil for the plain instance
	client *redis.Client
}

func (in *instance) close() {
	in.srv.Close()
	if in.store != nil {
		in.store.Close()
	}
	in.v.Close()
	if in.client != nil {
		in.client.Close()
	}
}

// newInstance starts one API instance. With store it has its own
// redisstore.Store store on its own Redis client, used by its Verifier
// (unless plain) and its sign-out routes; without, it only verifies JWTs.
func (d *demo) newInstance(ctx context.Context, name, redisAddr string, store, plain bool) (*instance, error) {
	in := &instance{name: name}
	var rev cognitoguard.RevocationChecker
	if store {
		in.client = redis.NewClient(&redis.Options{Addr: redisAddr})
		// WaitInstances: a sign-out returns once every instance has it,
		// so each check below is made once, right after, never retried.
		// The embedded miniredis reports no eviction policy (and never
		// evicts): trust it explicitly; a real Redis is checked.
		rs, err := redisstore.New(in.client, redisstore.Config{Prefix: demoPrefix, WaitInstances: true, Logger: d.log,
			TrustUnverifiedEviction: d.embedded})
		if err != nil {
			in.client.Close()
			return nil, err
		}
		in.store = rs
		if !plain {
			rev = rs
		}
	}
	v, err := cognitoguard.New([]cognitoguard.Pool{{
		UserPoolID: d.pool.PoolID(),
		Issuers:    []string{d.pool.Issuer()},
		ClientIDs:  []string{d.pool.ClientID()},
	}}, cognitoguard.Config{TokenUse: cognitoguard.TokenUseAny, Revocation: rev, Logger: d.log})
	if err != nil {
		in.closeStore()
		return nil, err
	}
	in.v = v
	if err := v.Refresh(ctx); err != nil {
		in.closeStore()
		v.Close()
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		c, _ := cognitoguard.FromContext(r.Context())
		groups := c.Groups
		if groups == nil {
			groups = []string{}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"username": c.Username, "token_use": c.TokenUse, "groups": groups})
	})
	root := http.NewServeMux()
	if in.store != nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := in.store.Ready(rctx)
		cancel()
		if err != nil {
			in.closeStore()
			v.Close()
			return nil, err
		}
		so, err := signout.New(d.cognito, v, in.store, signout.Config{
			UserPoolID: d.pool.PoolID(),
			Logger:     d.log,
		})
		if err != nil {
			in.closeStore()
			v.Close()
			return nil, err
		}
		root.Handle("/logout", signout.NewLogoutHandler(so, signout.LogoutConfig{Logger: d.log}))
		mux.Handle("POST /admin/users/{username}/signout", middleware.RequireGroups("admin")(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := so.AdminSignOut(r.Context(), r.PathValue("username")); err != nil {
					d.log.Warn("admin sign-out failed", slog.String("error", err.Error()))
					http.Error(w, "sign-out failed", http.StatusBadGateway)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})))
	}
	root.Handle("/", middleware.New(v, middleware.Config{Logger: d.log})(mux))
	in.srv = httptest.NewServer(root)
	return in, nil
}

func (in *instance) closeStore() {
	if in.store != nil {
		in.store.Close()
	}
	if in.client != nil {
		in.client.Close()
	}
}
