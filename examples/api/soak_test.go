package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitoguard/cognitoguard/internal/awstest"

	"github.com/cognitoguard/cognitoguard/internal/syncbuf"

	"github.com/cognitoguard/cognitoguard/cognitotest"
	"github.com/cognitoguard/cognitoguard/internal/redistest"
)

// soakEnv turns TestSoak on: its value is the duration of the load phase,
// such as "60s". Unset, the test is skipped so that go test ./... stays
// fast; CI runs it with 20s.
const soakEnv = "COGNITOGUARD_SOAK"

// Shape of the load.
const (
	soakWorkers        = 16  // concurrent clients
	soakUsers          = 500 // users signed in, out and in again; every 10th is an admin
	soakBystanders     = 50  // users never signed out …
	soakBystanderToks  = 100 // … with this many distinct tokens each
	soakSignOutsPerSec = 25  // logouts + admin sign-outs, together at most
	soakNewUsersPerSec = 5   // users added during the load, at most
	soakRevokedRing    = 1024
	soakRecentRing     = 16
	soakWindow         = 10 * time.Second // the first and last sample windows
	soakReqTimeout     = 10 * time.Second
	soakHeapSlack      = 4 << 20 // bytes allowed on top of first-window heap × 1.5
	soakGoroutineSlack = 10

	// soakPropagationGrace is how long after a sign-out returned on one
	// instance the other may still accept the token without that counting
	// as a wrong answer. The instance that records a sign-out applies it
	// before returning (0 tolerance: wrong_same_instance must be 0). Other
	// instances apply it when its pub/sub message arrives, typically within
	// a millisecond or two (p99 ≈ 2 ms on an idle machine; tens of ms on
	// two cores saturated by this test); the hard guarantee is
	// redisstore.Config.Staleness (default 1s): an instance that has not proved
	// its view fresh for that long fails closed. Lagged acceptances are
	// counted and the longest is reported (stale_accept_max).
	soakPropagationGrace = time.Second

	// soakWaitEnv set to 1 runs both instances with -wait-instances: a
	// sign-out returns once both instances have applied it, so the grace
	// is zero and any acceptance after the return is a wrong answer.
	soakWaitEnv = "COGNITOGUARD_SOAK_WAIT_INSTANCES"
)

// TestSoak drives two api instances sharing a real redis-server with a mix
// of valid, invalid, expired and revoked tokens and concurrent sign-outs
// (POST /logout and POST /admin/users/{u}/signout) for $COGNITOGUARD_SOAK,
// and checks every answer against an oracle:
//
//   - a request that started after a sign-out of the user RETURNED 204,
//     with a token authenticated at or before the sign-out started, must
//     be refused (401, "Access Token has been revoked"), on either
//     instance; 200 is a wrong answer. To probe the boundary, each token
//     signed out is presented to the other instance as soon as the
//     sign-out has returned (class "chase"); see soakPropagationGrace;
//   - a token of a user never signed out, or signed in again after the
//     last sign-out returned (auth_time in a later second: the store keeps
//     sign-outs at millisecond precision and auth_time is whole seconds),
//     must be accepted; 401 or 403 is a wrong answer. While a sign-out of
//     the token's user is in flight, both answers are right;
//   - invalid (tampered signature, foreign key) and expired tokens must be
//     refused;
//   - 503 is not a wrong answer (the service failed closed) but an error,
//     reported as a rate, as are transport failures and 502.
//
// It requires zero wrong answers. Every second it samples, in this process
// (which hosts both instances, the fake pool and the clients),
// runtime.NumGoroutine and HeapAlloc after runtime.GC, and requires the
// medians of the last window to be within 1.5× (plus a small slack) those
// of the first: no leak of goroutines or memory under sustained load.
//
// Before the load phase a warm-up fills what is bounded but grows with
// distinct tokens — each Verifier's token cache (4096 entries, about
// 9 MiB) and each revocation view — with more distinct valid tokens than
// the cache holds, so that the windows compare steady states.
//
// The figures are logged as lines starting with "soak: ".
func TestSoak(t *testing.T) {
	val := os.Getenv(soakEnv)
	if val == "" {
		t.Skipf("set %s to a duration (such as 60s) to run the soak test", soakEnv)
	}
	dur, err := time.ParseDuration(val)
	if err != nil || dur < 2*time.Second {
		t.Fatalf("%s=%q: want a duration of at least 2s", soakEnv, val)
	}
	awstest.Isolate(t)
	addr, _ := redistest.Server(t)
	checkGoroutines(t)
	s := newSoak(t)
	t.Cleanup(s.http.CloseIdleConnections) // before checkGoroutines' check
	args := poolArgs(s.pool, "-redis-addr", addr)
	if os.Getenv(soakWaitEnv) == "1" {
		args = append(args, "-wait-instances")
		s.grace = 0
	}
	t.Logf("soak: instances started with %q; cross-instance grace %v", args[len(poolArgs(s.pool)):], s.grace)
	for i := range s.inst {
		s.inst[i], s.logs[i] = startSoakInstance(t, args)
	}

	t0 := time.Now()
	s.warmUp()
	t.Logf("soak: warm-up took %v (%d bystander tokens, %d users, both instances)",
		time.Since(t0).Round(time.Millisecond), len(s.bystanders), len(s.users))

	// Load phase.
	ctx, cancel := context.WithTimeout(t.Context(), dur)
	defer cancel()
	sampler := startSampler(ctx)
	start := time.Now()
	var wg sync.WaitGroup
	for range soakWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				s.step()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	samples := sampler.wait()

	s.report(elapsed, samples)

	for i, in := range s.inst {
		in.shutdown(t)
		if t.Failed() {
			t.Logf("instance %d: first warnings:\n%s", i, strings.Join(s.logs[i].warnLines, ""))
		}
	}
}

// soak is the state of TestSoak: the pool, the instances, the users and
// the oracle's records, and the counters.
type soak struct {
	t     *testing.T
	pool  *cognitotest.Pool
	inst  [2]*instance
	logs  [2]*logTail
	http  *http.Client
	users []*soakUser
	// admins are the users of group admin, a subset of users.
	admins []*soakUser
	// bystanders are tokens of users never signed out.
	bystanders []*soakToken
	// invalid holds tokens with a tampered signature or signed by a key
	// foreign to the pool; expired, tokens past their exp.
	invalid, expired []string

	// revoked is a ring of tokens whose user's sign-out returned 204 after
	// the token's authentication.
	revokedMu sync.Mutex
	revoked   []*soakToken
	revokedN  int

	// recent is a ring of the tokens whose sign-out started last (in
	// flight or done), which valid requests present now and then to race
	// with the sign-out.
	recentMu sync.Mutex
	recent   [soakRecentRing]*soakToken
	recentN  int

	nextSignOut atomic.Int64 // Unix ns before which no sign-out starts (rate limit)
	nextNewUser atomic.Int64 // Unix ns before which no user is added (rate limit)
	newUsers    atomic.Int64
	signIns     atomic.Int64

	counts [numClasses][numOutcomes]atomic.Int64
	me     histogram // GET /me
	out    histogram // POST /logout and /admin/…/signout

	staleMax   atomic.Int64  // ns: longest an instance accepted a token after its sign-out returned
	lagged     atomic.Int64  // accepted by the other instance within grace
	grace      time.Duration // soakPropagationGrace, or 0 with -wait-instances
	wrongCross atomic.Int64  // accepted by the other instance than the one that signed out
	wrongSame  atomic.Int64  // accepted by the instance that signed the user out
	wrongN     atomic.Int64
	wrongMu    sync.Mutex
	wrongEgs   []string // the first few wrong answers, for the failure message
}

// soakUser is a user whose sessions the load signs in and out.
type soakUser struct {
	name  string
	admin bool

	mu      sync.Mutex
	cur     *soakToken // its current token; nil once signed out, until signed in again
	busy    bool       // a sign-out of the user is in flight
	lastEnd time.Time  // when its last sign-out attempt returned
}

// soakToken is one access token and what the oracle needs to judge it.
type soakToken struct {
	raw  string
	auth int64 // auth_time, Unix seconds
	// signOut is the sign-out of the token's user that ends the token's
	// session, once one started; nil for tokens whose user was never
	// signed out since their authentication.
	signOut atomic.Pointer[attempt]
}

// attempt is one sign-out request, seen by the client.
type attempt struct {
	start time.Time
	inst  int // the instance asked

	mu  sync.Mutex
	end time.Time // when the answer was read; zero while in flight
	ok  bool      // answered 204
}

func (a *attempt) finish(ok bool) {
	a.mu.Lock()
	a.end, a.ok = time.Now(), ok
	a.mu.Unlock()
}

func (a *attempt) result() (end time.Time, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.end, a.ok
}

// expect judges a request with tk that started at start and whose answer
// was read at end: mustReject if a sign-out of its user that covers it
// (started at or after its authentication) had returned 204 before the
// request started; mayReject if a sign-out of its user started before the
// request ended (in flight, failed or done: the record may be there).
func (tk *soakToken) expect(start, end time.Time) (mustReject, mayReject bool) {
	a := tk.signOut.Load()
	if a == nil || !a.start.Before(end) {
		return false, false
	}
	aEnd, ok := a.result()
	covers := tk.auth*1000 <= a.start.UnixMilli()
	if aEnd.IsZero() {
		return false, true
	}
	return ok && covers && aEnd.Before(start), tk.auth*1000 <= aEnd.UnixMilli()
}

// Request classes, as judged by the oracle.
const (
	classValid     = iota // GET /me, token that must be accepted
	classRacing           // GET /me, a sign-out of the user in flight or failed: either answer is right
	classRevoked          // GET /me, token that must be refused as revoked
	classInvalid          // GET /me, tampered or foreign-key token
	classExpired          // GET /me, expired token
	classChase            // GET /me on the other instance at once after a sign-out returned 204: must be refused as revoked
	classFirstSeen        // GET /me by a user added during the load (a Redis read on first sight): must be accepted
	classLogout           // POST /logout
	classAdmin            // POST /admin/users/{u}/signout
	numClasses
)

var classNames = [numClasses]string{"valid", "racing", "revoked", "invalid", "expired", "chase", "first_seen", "logout", "admin_signout"}

// Outcomes counted per class.
const (
	out200 = iota
	out204
	out401
	out403
	out404
	out502
	out503
	outOther     // any other status
	outTransport // no answer
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"200", "204", "401", "403", "404", "502", "503", "other", "transport"}

func outcomeOf(status int) int {
	switch status {
	case 200:
		return out200
	case 204:
		return out204
	case 401:
		return out401
	case 403:
		return out403
	case 404:
		return out404
	case 502:
		return out502
	case 503:
		return out503
	case 0:
		return outTransport
	}
	return outOther
}

func newSoak(t *testing.T) *soak {
	pool := cognitotest.NewPool(cognitotest.Config{})
	t.Cleanup(pool.Close)
	s := &soak{
		t:       t,
		pool:    pool,
		grace:   soakPropagationGrace,
		revoked: make([]*soakToken, soakRevokedRing),
		http: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        4 * soakWorkers,
			MaxIdleConnsPerHost: 2 * soakWorkers, // no connection churn (and no TIME_WAIT pile-up)
			IdleConnTimeout:     30 * time.Second,
		}},
	}
	for i := range soakUsers {
		u := &soakUser{name: fmt.Sprintf("user-%03d", i), admin: i%10 == 0}
		cu := cognitotest.User{Username: u.name}
		if u.admin {
			cu.Groups = []string{"admin"}
			s.admins = append(s.admins, u)
		}
		pool.AddUser(cu)
		s.users = append(s.users, u)
	}
	for i := range soakBystanders {
		pool.AddUser(cognitotest.User{Username: fmt.Sprintf("bystander-%02d", i)})
	}

	// Mint on every core: RSA signing dominates the warm-up.
	var mu sync.Mutex
	var wg sync.WaitGroup
	jobs := make(chan func(), 64)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for job := range jobs {
				job()
			}
		})
	}
	for i := range soakBystanders * soakBystanderToks {
		name := fmt.Sprintf("bystander-%02d", i%soakBystanders)
		jobs <- func() {
			tk := s.newToken(pool.AccessToken(name))
			mu.Lock()
			s.bystanders = append(s.bystanders, tk)
			mu.Unlock()
		}
	}
	for _, u := range s.users {
		jobs <- func() { u.cur = s.newToken(pool.SignIn(u.name).AccessToken) }
	}
	close(jobs)
	wg.Wait()

	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 32 {
		name := fmt.Sprintf("bystander-%02d", i%soakBystanders)
		s.invalid = append(s.invalid,
			tamper(s.bystanders[i].raw),
			pool.AccessToken(name, cognitotest.WithSigningKey(foreign)))
		s.expired = append(s.expired, pool.AccessToken(name,
			cognitotest.WithIssuedAt(now.Add(-2*time.Hour)), cognitotest.WithExpiry(now.Add(-time.Hour+time.Duration(i)*time.Second))))
	}
	return s
}

// newToken wraps a freshly minted token.
func (s *soak) newToken(raw string) *soakToken {
	auth, err := authTime(raw)
	if err != nil {
		panic(err) // our own pool's token
	}
	return &soakToken{raw: raw, auth: auth}
}

// authTime reads the auth_time claim of a token, without verifying it.
func authTime(raw string) (int64, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return 0, errors.New("not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, err
	}
	var c struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.AuthTime == 0 {
		return 0, fmt.Errorf("no auth_time: %v", err)
	}
	return c.AuthTime, nil
}

// tamper changes the first character of the signature.
func tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// warmUp presents every valid token to both instances (filling their
// token caches and revocation views) and checks that each is accepted.
func (s *soak) warmUp() {
	toks := slices.Clone(s.bystanders)
	for _, u := range s.users {
		toks = append(toks, u.cur)
	}
	var next atomic.Int64
	var bad atomic.Int64
	var wg sync.WaitGroup
	for range soakWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= 2*len(toks) {
					return
				}
				r := s.send(i%2, "GET", "/me", toks[i/2].raw)
				if r.status != http.StatusOK && bad.Add(1) <= 5 {
					s.t.Errorf("warm-up: GET /me = %d (%v), want 200", r.status, r.err)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		s.t.Fatalf("warm-up: %d of %d requests failed", bad.Load(), 2*len(toks))
	}
}

// answer is what one request got.
type answer struct {
	inst       int // the instance asked
	status     int
	revoked    bool // WWW-Authenticate says "Access Token has been revoked"
	err        error
	start, end time.Time
}

func (s *soak) send(inst int, method, path, token string) answer {
	in := s.inst[inst]
	ctx, cancel := context.WithTimeout(s.t.Context(), soakReqTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, in.url+path, nil)
	if err != nil {
		return answer{inst: inst, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	a := answer{inst: inst, start: time.Now()}
	res, err := s.http.Do(req)
	if err != nil {
		a.end, a.err = time.Now(), err
		return a
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	a.end, a.err = time.Now(), err
	a.status = res.StatusCode
	a.revoked = strings.Contains(res.Header.Get("WWW-Authenticate"), "Access Token has been revoked")
	if err != nil {
		a.status = 0
	}
	return a
}

func (s *soak) instance() int { return mrand.IntN(len(s.inst)) }

// step runs one request of a random kind.
func (s *soak) step() {
	switch n := mrand.IntN(100); {
	case n < 1:
		if s.newcomer() {
			return
		}
	case n < 3:
		if s.logout() {
			return
		}
	case n < 6:
		if s.adminSignOut() {
			return
		}
	case n < 21:
		if s.revokedRequest() {
			return
		}
	case n < 31:
		s.fixed(classInvalid, s.invalid[mrand.IntN(len(s.invalid))])
		return
	case n < 36:
		s.fixed(classExpired, s.expired[mrand.IntN(len(s.expired))])
		return
	}
	s.validRequest()
}

// validRequest presents a current token: a bystander's or a user's (whose
// sign-out may be racing with it).
func (s *soak) validRequest() {
	var tk *soakToken
	switch n := mrand.IntN(8); {
	case n == 0:
		s.recentMu.Lock()
		if m := min(s.recentN, len(s.recent)); m > 0 {
			tk = s.recent[mrand.IntN(m)]
		}
		s.recentMu.Unlock()
	case n < 4:
		tk = s.currentToken(s.users[mrand.IntN(len(s.users))])
	}
	if tk == nil {
		tk = s.bystanders[mrand.IntN(len(s.bystanders))]
	}
	a := s.send(s.instance(), "GET", "/me", tk.raw)
	s.me.add(a.end.Sub(a.start))
	must, may := tk.expect(a.start, a.end)
	class := classValid
	switch {
	case must:
		class = classRevoked
	case may:
		class = classRacing
	}
	s.count(class, a)
	switch {
	case a.status == http.StatusOK && must:
		s.wrongAccepted("GET /me accepted a token whose user's sign-out had returned before the request started", a, tk)
	case a.status == http.StatusUnauthorized && !may:
		s.wrong("GET /me refused a valid, never-revoked token (401)")
	case a.status == http.StatusUnauthorized && must && !a.revoked:
		s.wrong("GET /me refused a revoked token without saying it was revoked")
	case a.status == http.StatusForbidden:
		s.wrong("GET /me answered 403")
	}
}

// currentToken returns u's current token, signing u in again if it has
// none and its last sign-out returned in an earlier second than now (a
// sign-in in the same second as a sign-out is refused by design).
func (s *soak) currentToken(u *soakUser) *soakToken {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cur == nil && !u.busy && time.Now().Unix() > u.lastEnd.Unix() {
		u.cur = s.newToken(s.pool.SignIn(u.name).AccessToken)
		s.signIns.Add(1)
	}
	return u.cur
}

// revokedRequest presents a token whose user's sign-out returned 204.
func (s *soak) revokedRequest() bool {
	s.revokedMu.Lock()
	n := min(s.revokedN, len(s.revoked))
	var tk *soakToken
	if n > 0 {
		tk = s.revoked[mrand.IntN(n)]
	}
	s.revokedMu.Unlock()
	if tk == nil {
		return false
	}
	a := s.send(s.instance(), "GET", "/me", tk.raw)
	s.me.add(a.end.Sub(a.start))
	s.count(classRevoked, a)
	switch {
	case a.status == http.StatusOK:
		s.wrongAccepted("GET /me accepted a token of a user signed out before", a, tk)
	case a.status == http.StatusUnauthorized && !a.revoked:
		s.wrong("GET /me refused a revoked token without saying it was revoked")
	case a.status == http.StatusForbidden:
		s.wrong("GET /me answered 403 to a revoked token")
	}
	return true
}

// fixed presents an invalid or expired token.
func (s *soak) fixed(class int, tok string) {
	a := s.send(s.instance(), "GET", "/me", tok)
	s.me.add(a.end.Sub(a.start))
	s.count(class, a)
	if a.status == http.StatusOK || a.status == http.StatusForbidden {
		s.wrong(fmt.Sprintf("GET /me answered %d to an %s token", a.status, classNames[class]))
	}
}

// allowed applies a rate limit of perSec to the events recorded in next.
func allowed(next *atomic.Int64, perSec int) bool {
	now := time.Now().UnixNano()
	n := next.Load()
	return now >= n && next.CompareAndSwap(n, now+int64(time.Second)/int64(perSec))
}

func (s *soak) signOutAllowed() bool { return allowed(&s.nextSignOut, soakSignOutsPerSec) }

// newcomer adds a user, signs it in and presents its token to both
// instances, which have never seen the user: each reads Redis once.
func (s *soak) newcomer() bool {
	if !allowed(&s.nextNewUser, soakNewUsersPerSec) {
		return false
	}
	name := fmt.Sprintf("newcomer-%05d", s.newUsers.Add(1))
	s.pool.AddUser(cognitotest.User{Username: name})
	tok := s.pool.SignIn(name).AccessToken
	for i := range s.inst {
		a := s.send(i, "GET", "/me", tok)
		s.me.add(a.end.Sub(a.start))
		s.count(classFirstSeen, a)
		if a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
			s.wrong(fmt.Sprintf("GET /me refused the token of a user just added (%d)", a.status))
		}
	}
	return true
}

// beginSignOut picks a random signed-in user other than not with no
// sign-out in flight, marks the sign-out started and returns the user and
// its token.
func (s *soak) beginSignOut(not *soakUser) (*soakUser, *soakToken, *attempt) {
	for range 8 {
		u := s.users[mrand.IntN(len(s.users))]
		if u == not {
			continue
		}
		u.mu.Lock()
		if u.cur == nil || u.busy {
			u.mu.Unlock()
			continue
		}
		u.busy = true
		tk := u.cur
		a := &attempt{start: time.Now(), inst: mrand.IntN(len(s.inst))}
		tk.signOut.Store(a)
		u.mu.Unlock()
		s.recentMu.Lock()
		s.recent[s.recentN%len(s.recent)] = tk
		s.recentN++
		s.recentMu.Unlock()
		return u, tk, a
	}
	return nil, nil, nil
}

// endSignOut records the outcome of a's sign-out of u: the token is
// retired (into the revoked ring if the sign-out returned 204) and u may
// sign in again from the next second on.
func (s *soak) endSignOut(u *soakUser, tk *soakToken, a *attempt, ok bool) {
	a.finish(ok)
	end, _ := a.result()
	u.mu.Lock()
	if u.cur == tk {
		u.cur = nil
	}
	u.busy = false
	u.lastEnd = end
	u.mu.Unlock()
	if ok {
		s.revokedMu.Lock()
		s.revoked[s.revokedN%len(s.revoked)] = tk
		s.revokedN++
		s.revokedMu.Unlock()
	}
}

// chase presents tk, whose sign-out just returned 204 on instance i, to
// the other instance at once: the sign-out must already be honoured there.
func (s *soak) chase(i int, tk *soakToken) {
	a := s.send(1-i, "GET", "/me", tk.raw)
	s.me.add(a.end.Sub(a.start))
	s.count(classChase, a)
	switch {
	case a.status == http.StatusOK:
		s.wrongAccepted("GET /me on the other instance, right after a sign-out returned, accepted the signed-out token", a, tk)
	case a.status == http.StatusUnauthorized && !a.revoked:
		s.wrong("GET /me on the other instance refused a revoked token without saying it was revoked")
	case a.status == http.StatusForbidden:
		s.wrong("GET /me answered 403 to a revoked token")
	}
}

// logout: a user signs itself out with POST /logout.
func (s *soak) logout() bool {
	if !s.signOutAllowed() {
		return false
	}
	u, tk, at := s.beginSignOut(nil)
	if u == nil {
		return false
	}
	i := at.inst
	a := s.send(i, "POST", "/logout", tk.raw)
	s.endSignOut(u, tk, at, a.status == http.StatusNoContent)
	if a.status == http.StatusNoContent {
		defer s.chase(i, tk)
	}
	s.out.add(a.end.Sub(a.start))
	s.count(classLogout, a)
	switch a.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		// Nothing else signs the user out meanwhile: the token was valid.
		s.wrong(fmt.Sprintf("POST /logout with a valid token answered %d", a.status))
	case http.StatusOK:
		s.wrong("POST /logout answered 200, want 204")
	}
	return true
}

// adminSignOut: an admin signs another user out.
func (s *soak) adminSignOut() bool {
	if !s.signOutAllowed() {
		return false
	}
	admin := s.admins[mrand.IntN(len(s.admins))]
	atk := s.currentToken(admin)
	if atk == nil {
		return false
	}
	u, tk, at := s.beginSignOut(admin)
	if u == nil {
		return false
	}
	i := at.inst
	a := s.send(i, "POST", "/admin/users/"+u.name+"/signout", atk.raw)
	s.endSignOut(u, tk, at, a.status == http.StatusNoContent)
	if a.status == http.StatusNoContent {
		defer s.chase(i, tk)
	}
	s.out.add(a.end.Sub(a.start))
	s.count(classAdmin, a)
	must, may := atk.expect(a.start, a.end)
	switch {
	case a.status == http.StatusNoContent && must:
		s.wrong("POST /admin/…/signout accepted an admin token whose user's sign-out had returned before")
	case a.status == http.StatusUnauthorized && !may:
		s.wrong("POST /admin/…/signout refused a valid admin token (401)")
	case a.status == http.StatusForbidden, a.status == http.StatusNotFound, a.status == http.StatusOK:
		s.wrong(fmt.Sprintf("POST /admin/…/signout answered %d", a.status))
	}
	return true
}

func (s *soak) count(class int, a answer) {
	s.counts[class][outcomeOf(a.status)].Add(1)
}

// wrongAccepted records that a accepted tk although tk's sign-out had
// returned before a started, and measures for how long the instance keeps
// accepting it.
func (s *soak) wrongAccepted(what string, a answer, tk *soakToken) {
	at := tk.signOut.Load()
	end, _ := at.result()
	stale := time.Since(end)
	for stale < 2*time.Second {
		if r := s.send(a.inst, "GET", "/me", tk.raw); r.status != http.StatusOK {
			break
		}
		time.Sleep(time.Millisecond)
		stale = time.Since(end)
	}
	for {
		m := s.staleMax.Load()
		if int64(stale) <= m || s.staleMax.CompareAndSwap(m, int64(stale)) {
			break
		}
	}
	cross := a.inst != at.inst
	switch {
	case cross && a.start.Sub(end) < s.grace:
		s.lagged.Add(1)
		return
	case cross:
		s.wrongCross.Add(1)
	default:
		s.wrongSame.Add(1)
	}
	s.wrong(fmt.Sprintf("%s: instance %d, %v after the sign-out on instance %d returned (%v after it started); accepted until %v after it returned",
		what, a.inst, a.start.Sub(end).Round(time.Microsecond), at.inst, a.start.Sub(at.start).Round(time.Microsecond), stale.Round(time.Millisecond)))
}

func (s *soak) wrong(what string) {
	if s.wrongN.Add(1) <= 10 {
		s.wrongMu.Lock()
		s.wrongEgs = append(s.wrongEgs, what)
		s.wrongMu.Unlock()
	}
}

// report logs the figures and checks the invariants.
func (s *soak) report(elapsed time.Duration, samples []sample) {
	t := s.t
	var total, errs int64
	for c := range numClasses {
		var n int64
		parts := []string{}
		for o := range numOutcomes {
			v := s.counts[c][o].Load()
			n += v
			if v > 0 {
				parts = append(parts, outcomeNames[o]+"="+fmt.Sprint(v))
			}
			switch o {
			case out502, out503, outOther, outTransport:
				errs += v
			}
		}
		total += n
		t.Logf("soak: class=%s n=%d %s", classNames[c], n, strings.Join(parts, " "))
	}
	wrong := s.wrongN.Load()
	rate := 0.0
	if total > 0 {
		rate = float64(errs) / float64(total)
	}
	t.Logf("soak: duration=%v workers=%d requests=%d rps=%.0f wrong=%d errors=%d error_rate=%.4f%% sign_ins=%d new_users=%d",
		elapsed.Round(time.Millisecond), soakWorkers, total, float64(total)/elapsed.Seconds(), wrong, errs, 100*rate, s.signIns.Load(), s.newUsers.Load())
	t.Logf("soak: wrong_same_instance=%d wrong_cross_instance=%d lagged_within_grace=%d grace=%v stale_accept_max=%v",
		s.wrongSame.Load(), s.wrongCross.Load(), s.lagged.Load(), s.grace,
		time.Duration(s.staleMax.Load()).Round(time.Millisecond))
	t.Logf("soak: latency me p50=%v p99=%v max=%v; signout p50=%v p99=%v max=%v",
		s.me.quantile(0.50), s.me.quantile(0.99), s.me.max(), s.out.quantile(0.50), s.out.quantile(0.99), s.out.max())
	for i, l := range s.logs {
		t.Logf("soak: instance=%d log_lines=%d warn=%d error=%d", i, l.lines.Load(), l.warns.Load(), l.errors.Load())
	}

	w := min(soakWindow, elapsed/2)
	first, last := window(samples, 0, w), window(samples, elapsed-w, elapsed+time.Second)
	if len(first) == 0 || len(last) == 0 {
		t.Errorf("soak: too few samples (%d)", len(samples))
		return
	}
	g1, g2 := median(first, func(x sample) float64 { return float64(x.goroutines) }), median(last, func(x sample) float64 { return float64(x.goroutines) })
	h1, h2 := median(first, func(x sample) float64 { return float64(x.heap) }), median(last, func(x sample) float64 { return float64(x.heap) })
	t.Logf("soak: window=%v samples=%d goroutines first=%.0f last=%.0f heap_mib first=%.1f last=%.1f",
		w, len(samples), g1, g2, h1/(1<<20), h2/(1<<20))

	if wrong > 0 {
		s.wrongMu.Lock()
		t.Errorf("soak: %d wrong answers, first ones:\n  %s", wrong, strings.Join(s.wrongEgs, "\n  "))
		s.wrongMu.Unlock()
	}
	if total == 0 {
		t.Error("soak: no requests made")
	}
	if n := s.counts[classLogout][out204].Load() + s.counts[classAdmin][out204].Load(); n == 0 {
		t.Error("soak: no sign-out succeeded")
	}
	if s.counts[classRevoked][out401].Load() == 0 {
		t.Error("soak: no revoked token was presented")
	}
	if g2 > g1*1.5+soakGoroutineSlack {
		t.Errorf("soak: goroutines grew: median %.0f in the first %v, %.0f in the last", g1, w, g2)
	}
	if h2 > h1*1.5+soakHeapSlack {
		t.Errorf("soak: heap grew: median %.1f MiB in the first %v, %.1f MiB in the last", h1/(1<<20), w, h2/(1<<20))
	}
}

// sample is one reading of the process.
type sample struct {
	at         time.Duration // since the sampler started
	goroutines int
	heap       uint64 // HeapAlloc after a GC
}

type sampler struct {
	done    chan struct{}
	samples []sample
}

// startSampler samples the process every second until ctx ends.
func startSampler(ctx context.Context) *sampler {
	sp := &sampler{done: make(chan struct{})}
	start := time.Now()
	take := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		sp.samples = append(sp.samples, sample{time.Since(start), runtime.NumGoroutine(), m.HeapAlloc})
	}
	go func() {
		defer close(sp.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		take()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				take()
			}
		}
	}()
	return sp
}

func (sp *sampler) wait() []sample {
	<-sp.done
	return sp.samples
}

// window returns the samples taken in [from, to).
func window(ss []sample, from, to time.Duration) []sample {
	var out []sample
	for _, s := range ss {
		if s.at >= from && s.at < to {
			out = append(out, s)
		}
	}
	return out
}

func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// histogram counts durations in buckets 3% wide, so that a long run needs
// no growing memory.
type histogram struct {
	n       atomic.Int64
	maxNs   atomic.Int64
	buckets [histBuckets]atomic.Int64
}

const (
	histGrowth  = 1.03
	histBuckets = 900 // 1.03^900 ns ≈ 3.4e11 ns: beyond any request timeout
)

var histLog = math.Log(histGrowth)

func (h *histogram) add(d time.Duration) {
	ns := max(int64(d), 1)
	i := min(int(math.Log(float64(ns))/histLog), histBuckets-1)
	h.buckets[i].Add(1)
	h.n.Add(1)
	for {
		m := h.maxNs.Load()
		if ns <= m || h.maxNs.CompareAndSwap(m, ns) {
			return
		}
	}
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	target := int64(math.Ceil(q * float64(n)))
	var c int64
	for i := range histBuckets {
		c += h.buckets[i].Load()
		if c >= target {
			d := time.Duration(math.Pow(histGrowth, float64(i+1)))
			return min(d, h.max()).Round(time.Microsecond)
		}
	}
	return h.max()
}

func (h *histogram) max() time.Duration { return time.Duration(h.maxNs.Load()).Round(time.Microsecond) }

// startSoakInstance runs the api like start does, with its log going to a
// bounded tail (the load logs every sign-out: a growing buffer would look
// like a leak).
func startSoakInstance(t *testing.T, args []string) (*instance, *logTail) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	logs := &logTail{max: 64 << 10}
	in := &instance{stop: cancel, errc: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	addrc := make(chan string, 1)
	go func() {
		in.errc <- run(ctx, args, io.Discard, logs, func(addr string) { addrc <- addr })
	}()
	select {
	case addr := <-addrc:
		in.url = "http://" + addr
	case err := <-in.errc:
		cancel()
		t.Fatalf("run: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("api did not listen\n%s", logs)
	}
	t.Cleanup(func() { in.shutdown(t) })
	waitHealthy(t, in)
	return in, logs
}

// logTail keeps the last max bytes of a log and counts its lines by level.
// The handler writes one record per Write.
type logTail struct {
	max                  int
	lines, warns, errors atomic.Int64
	mu                   sync.Mutex
	b                    []byte
	warnLines            []string // the first WARN and ERROR records
}

func (l *logTail) Write(p []byte) (int, error) {
	l.lines.Add(int64(bytes.Count(p, []byte{'\n'})))
	if bytes.Contains(p, []byte(`"level":"WARN"`)) {
		l.warns.Add(1)
	}
	if bytes.Contains(p, []byte(`"level":"ERROR"`)) {
		l.errors.Add(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.warnLines) < 20 && (bytes.Contains(p, []byte(`"level":"WARN"`)) || bytes.Contains(p, []byte(`"level":"ERROR"`))) {
		l.warnLines = append(l.warnLines, string(p))
	}
	l.b = append(l.b, p...)
	if len(l.b) > 2*l.max {
		l.b = append(l.b[:0], l.b[len(l.b)-l.max:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
