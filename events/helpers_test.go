package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	testPool   = "us-east-1_AbCdEf123"
	secondPool = "us-east-1_Second456"
	replica    = "eu-central-1_Replica1" // replicated to us-east-1
	testSub    = "4f0c9d2e-8b1a-4c3d-9e5f-6a7b8c9d0e1f"
)

// eventTime is the eventTime of every record of testdata/cloudtrail.
var eventTime = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// testdata returns the body of testdata/cloudtrail/name.json.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "cloudtrail", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit returns body with the detail changed by f.
func edit(t testing.TB, body []byte, f func(env, detail map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	f(env, env["detail"].(map[string]any))
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type write struct {
	pool, sub string
	at        time.Time
}

// recorder records RevokeUser calls; fail makes them fail.
type recorder struct {
	mu     sync.Mutex
	writes []write
	fail   bool
	calls  int
}

var errDown = errors.New("store down")

func (r *recorder) RevokeUser(_ context.Context, pool, sub string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return errDown
	}
	r.writes = append(r.writes, write{pool, sub, at})
	return nil
}

func (r *recorder) setFail(b bool) {
	r.mu.Lock()
	r.fail = b
	r.mu.Unlock()
}

func (r *recorder) got() []write {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]write(nil), r.writes...)
}
