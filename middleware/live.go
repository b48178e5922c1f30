package middleware

import "net/http"

// NewLiveHandler returns the handler of a liveness route such as GET
// /livez: 200 "ok" to GET and HEAD as long as the process serves HTTP, 405
// to other methods. It asks nothing of the Verifier, its keys or its
// revocation store, unlike [NewReadyHandler], so that an orchestrator
// probing it restarts a process that is stuck, not every process while
// Redis or the key endpoint is briefly down (those are readiness: take the
// instance out of the load balancer, do not restart it). Mount it outside
// the authenticating middleware. It is safe for concurrent use.
func NewLiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
}
