package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/revocation/redisstore"
)

// pool is the user pool ID of every benchmark user.
const pool = "us-east-1_Scale0000"

// fleet is N store instances, each with its own client (and so its own
// connections), as N processes would have.
type fleet struct {
	stores  []*redisstore.Store
	clients []redis.UniversalClient
	users   []string
	// Sign-out j is of users[j%len(users)] at base + j seconds: a reused
	// user's view entry then tells every sign-out apart (a token
	// authenticated at that second is revoked by it and by no earlier one).
	base time.Time
	next int
}

// newFleet starts n stores configured by cfg on topo, waits until each is Ready and loads
// users into every view (apply never creates entries: an instance learns
// sign-outs of the users it has seen).
func newFleet(ctx context.Context, topo *topology, n, users int, cfg redisstore.Config) (*fleet, error) {
	f := &fleet{stores: make([]*redisstore.Store, n), clients: make([]redis.UniversalClient, n),
		base: time.Now().Truncate(time.Second).Add(-12 * time.Hour)}
	for u := range users {
		f.users = append(f.users, "user-"+strconv.Itoa(u))
	}
	err := parallel(n, 16, func(i int) error {
		if topo.cluster {
			f.clients[i] = redis.NewClusterClient(&redis.ClusterOptions{Addrs: topo.addrs(), PoolSize: 4})
		} else {
			f.clients[i] = redis.NewClient(&redis.Options{Addr: topo.nodes[0].addr, PoolSize: 4})
		}
		s, err := redisstore.New(f.clients[i], cfg)
		if err != nil {
			return err
		}
		f.stores[i] = s
		c, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		return s.Ready(c)
	})
	if err == nil {
		err = parallel(n, 8, f.warm(ctx))
	}
	if err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// warm returns the task loading every user into instance i's view.
func (f *fleet) warm(ctx context.Context) func(i int) error {
	return func(i int) error {
		s := f.stores[i]
		for attempt := 0; s.Stats().Entries < len(f.users); attempt++ {
			if attempt == 5 {
				return fmt.Errorf("instance %d: %d of %d users in its view after %d attempts", i, s.Stats().Entries, len(f.users), attempt)
			}
			for _, u := range f.users {
				_, _ = s.Revoked(ctx, &cognitoguard.Claims{UserPoolID: pool, Subject: u, AuthTime: f.base.Add(-time.Hour)})
			}
		}
		return nil
	}
}

// signOut returns sign-out j: the user, its time, and the claims of a
// token that it, and no earlier sign-out, revokes.
func (f *fleet) signOut(j int) (sub string, at time.Time, probe *cognitoguard.Claims) {
	sub = f.users[j%len(f.users)]
	at = f.base.Add(time.Duration(j) * time.Second)
	return sub, at, &cognitoguard.Claims{UserPoolID: pool, Subject: sub, AuthTime: at}
}

// counters sums the stores' counters that tell whether a phase was
// answered from the views alone.
func (f *fleet) counters() (lookups, stale, unconfirmed uint64) {
	for _, s := range f.stores {
		st := s.Stats()
		lookups += st.Lookups
		stale += st.StaleRejections
		unconfirmed += st.Unconfirmed
	}
	return lookups, stale, unconfirmed
}

// messages sums the messages the instances received on the sign-out
// channels.
func (f *fleet) messages() uint64 {
	var n uint64
	for _, s := range f.stores {
		n += s.Stats().Messages
	}
	return n
}

func (f *fleet) close() {
	for i, s := range f.stores {
		if s != nil {
			_ = s.Close()
		}
		if f.clients[i] != nil {
			_ = f.clients[i].Close()
		}
	}
}

// parallel runs task(0..n-1) on at most width goroutines and returns the
// first error.
func parallel(n, width int, task func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range min(width, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := task(i); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
