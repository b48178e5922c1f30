package signout

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// writeJSON writes a fixed JSON error body. code and desc are constant
// ASCII texts without quotes or backslashes.
func writeJSON(w http.ResponseWriter, status int, code, desc string) {
	body := `{"error":"` + code + `","error_description":"` + desc + `"}` + "\n"
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// retryAfterSeconds renders d as Retry-After delay-seconds: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := d / time.Second
	if d%time.Second > 0 {
		s++
	}
	return strconv.FormatInt(max(int64(s), 1), 10)
}
