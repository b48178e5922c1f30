package signout

import (
	"io"
	"net/http"
	"strconv"
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
