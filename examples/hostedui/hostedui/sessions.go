package hostedui

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Session bounds: the defaults of [Config.MaxSessions],
// [Config.MaxSessionBytes], [Config.MaxSessionsPerUser] and
// [Config.SessionLifetime].
const (
	DefaultMaxSessions        = 10000
	DefaultMaxSessionBytes    = 64 << 20
	DefaultMaxSessionsPerUser = 8
	DefaultSessionLifetime    = 12 * time.Hour
)

// sessionOverhead is the bytes counted for a session besides its tokens
// (the struct, its map and list entries, the sub and username).
const sessionOverhead = 512

// session is one browser's sign-in: the tokens of the code flow, kept on
// the server (the browser holds only the session ID).
type session struct {
	key      [sha256.Size]byte // SHA-256 of the session ID
	sub      string
	username string
	expires  time.Time // absolute end, whatever the tokens say

	mu    sync.Mutex    // guards token (refreshes)
	token *oauth2.Token // access and refresh tokens
	size  int           // bytes counted against the bound
}

// sessions is the bounded, in-memory session store: at most max sessions
// and maxBytes bytes in all, perUser sessions of a user, each living at
// most ttl. The oldest sessions make room for new ones. It is safe for
// concurrent use.
type sessions struct {
	max, maxBytes, perUser int
	ttl                    time.Duration
	now                    func() time.Time

	mu     sync.Mutex
	byKey  map[[sha256.Size]byte]*list.Element
	bySub  map[string][]*list.Element // oldest first
	order  *list.List                 // of *session, oldest first
	nbytes int
}

func newSessions(max, maxBytes, perUser int, ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{max: max, maxBytes: maxBytes, perUser: perUser, ttl: ttl, now: now,
		byKey: map[[sha256.Size]byte]*list.Element{}, bySub: map[string][]*list.Element{}, order: list.New()}
}

// newSessionID returns a random session ID (256 bits, base64url).
func newSessionID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// add stores a new session for sub holding tok and returns its ID,
// evicting expired sessions, then the user's oldest beyond perUser, then
// the oldest of all while a bound is exceeded.
func (s *sessions) add(sub, username string, tok *oauth2.Token) string {
	id := newSessionID()
	ss := &session{key: sha256.Sum256([]byte(id)), sub: sub, username: username,
		expires: s.now().Add(s.ttl), token: tok}
	ss.size = sessionOverhead + len(sub) + len(username) + tokenSize(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	for len(s.bySub[sub]) >= s.perUser {
		s.removeLocked(s.bySub[sub][0])
	}
	for s.order.Len() > 0 && (s.order.Len() >= s.max || s.nbytes+ss.size > s.maxBytes) {
		s.removeLocked(s.order.Front())
	}
	e := s.order.PushBack(ss)
	s.byKey[ss.key] = e
	s.bySub[sub] = append(s.bySub[sub], e)
	s.nbytes += ss.size
	return id
}

// get returns the live session of id, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e == nil {
		return nil
	}
	ss := e.Value.(*session)
	if !s.now().Before(ss.expires) {
		s.removeLocked(e)
		return nil
	}
	return ss
}

// delete removes the session of id, if any.
func (s *sessions) delete(id string) {
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byKey[key]; e != nil {
		s.removeLocked(e)
	}
}

// resize records that ss now holds tok (after a refresh).
func (s *sessions) resize(ss *session, tok *oauth2.Token) {
	n := sessionOverhead + len(ss.sub) + len(ss.username) + tokenSize(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byKey[ss.key]; ok {
		s.nbytes += n - ss.size
	}
	ss.size = n
}

// len returns the number of sessions and their bytes.
func (s *sessions) len() (n, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len(), s.nbytes
}

// pruneLocked drops expired sessions (the oldest come first, and every
// session lives ttl).
func (s *sessions) pruneLocked() {
	now := s.now()
	for e := s.order.Front(); e != nil && !now.Before(e.Value.(*session).expires); e = s.order.Front() {
		s.removeLocked(e)
	}
}

func (s *sessions) removeLocked(e *list.Element) {
	ss := e.Value.(*session)
	s.order.Remove(e)
	delete(s.byKey, ss.key)
	list := s.bySub[ss.sub]
	for i, x := range list {
		if x == e {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.bySub, ss.sub)
	} else {
		s.bySub[ss.sub] = list
	}
	s.nbytes -= ss.size
}

// tokenSize is the bytes of tok's strings.
func tokenSize(tok *oauth2.Token) int {
	return len(tok.AccessToken) + len(tok.RefreshToken) + len(tok.TokenType)
}
