// Package retryafter renders the Retry-After of the library's 503
// answers, for the middleware and the sign-out handlers alike.
package retryafter

import (
	"strconv"
	"time"
)

// Seconds renders d as Retry-After delay-seconds (RFC 9110 §10.2.3): whole
// seconds, rounded up, at least 1.
func Seconds(d time.Duration) string {
	s := d / time.Second
	if d%time.Second > 0 {
		s++
	}
	return strconv.FormatInt(max(int64(s), 1), 10)
}
