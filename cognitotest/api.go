package cognitotest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// targetPrefix prefixes the X-Amz-Target header of every Cognito user pool
// API call.
const targetPrefix = "AWSCognitoIdentityProviderService."

// maxRequestBody bounds API request bodies.
const maxRequestBody = 1 << 20

// apiError is an error answer in the shape of the AWS JSON 1.1 protocol.
type apiError struct {
	status  int
	errType string
	message string
}

func errNotAuthorized(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "NotAuthorizedException", msg}
}

func errInvalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", msg}
}

func errNoPool(id string) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", "User pool " + id + " does not exist."}
}

func errNoClient(id string) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", "User pool client " + id + " does not exist."}
}

var (
	errNoUser   = &apiError{http.StatusBadRequest, "UserNotFoundException", "User does not exist."}
	errDisabled = errNotAuthorized("User is disabled.")
)

type injectedFailure struct {
	errType   string
	status    int
	remaining int
}

// FailNext makes the next n calls of API operation op (such as
// "GlobalSignOut") fail with error type errType (such as
// "TooManyRequestsException" or "InternalErrorException") and HTTP status
// (if 0: 500 for InternalErrorException, as Cognito answers it, else 400)
// before doing anything else. Calls to FailNext for the same op
// queue up, served in order; n <= 0 cancels the pending failures of op.
// Failed calls count in [Pool.Calls].
func (p *Pool) FailNext(op, errType string, status, n int) {
	switch {
	case status != 0:
	case errType == "InternalErrorException":
		status = http.StatusInternalServerError
	default:
		status = http.StatusBadRequest
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n <= 0 {
		delete(p.failures, op)
		return
	}
	p.failures[op] = append(p.failures[op], &injectedFailure{errType, status, n})
}

// Calls returns how many requests named API operation op so far,
// including failed and injected-failure ones.
func (p *Pool) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

// SetAPIDelay makes every API call wait d before it is answered (0, the
// default, for none). The wait ends early when the client gives up or the
// pool is closed, and the connection is then dropped without an answer. It
// does not apply to the JWKS endpoint (see
// [Pool.SetJWKSHandler] for that).
func (p *Pool) SetAPIDelay(d time.Duration) {
	p.mu.Lock()
	p.apiDelay = d
	p.mu.Unlock()
}

type apiHandler func(p *Pool, body []byte) (any, *apiError)

var apiHandlers = map[string]apiHandler{
	"InitiateAuth":              (*Pool).initiateAuth,
	"AdminInitiateAuth":         (*Pool).adminInitiateAuth,
	"GlobalSignOut":             (*Pool).globalSignOut,
	"AdminUserGlobalSignOut":    (*Pool).adminUserGlobalSignOut,
	"AdminGetUser":              (*Pool).adminGetUser,
	"GetUser":                   (*Pool).getUser,
	"RevokeToken":               (*Pool).revokeToken,
	"AdminDisableUser":          (*Pool).adminDisableUser,
	"AdminEnableUser":           (*Pool).adminEnableUser,
	"AdminDeleteUser":           (*Pool).adminDeleteUser,
	"CreateUserPoolClient":      (*Pool).createUserPoolClient,
	"GetTokensFromRefreshToken": (*Pool).getTokensFromRefreshToken,
	"ListUsers":                 (*Pool).listUsers,
}

// countCall counts a call of op and returns the delay to apply and the
// injected failure to answer with, if any.
func (p *Pool) countCall(op string) (time.Duration, *apiError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[op]++
	q := p.failures[op]
	if len(q) == 0 {
		return p.apiDelay, nil
	}
	f := q[0]
	if f.remaining--; f.remaining == 0 {
		p.failures[op] = q[1:]
	}
	if len(p.failures[op]) == 0 {
		delete(p.failures, op)
	}
	return p.apiDelay, &apiError{f.status, f.errType, "cognitotest: injected " + f.errType}
}

// wait sleeps d, or drops the connection unanswered when the client gives
// up or the pool closes first.
func (p *Pool) wait(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		panic(http.ErrAbortHandler) // no answer: the client is gone
	case <-p.done:
		// Drop the connection rather than let net/http send an empty
		// 200, which the SDK would take for success.
		panic(http.ErrAbortHandler)
	}
}

func (p *Pool) serveAPI(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok || op == "" {
		writeError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", ""})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, &apiError{http.StatusRequestEntityTooLarge, "SerializationException", "Request body too large."})
			return
		}
		writeError(w, &apiError{http.StatusBadRequest, "SerializationException", "Unreadable request body."})
		return
	}

	delay, injected := p.countCall(op)
	p.wait(r, delay)
	if injected != nil {
		writeError(w, injected)
		return
	}
	if e := checkRequest(op, r, body); e != nil {
		writeError(w, e)
		return
	}
	h, ok := apiHandlers[op]
	if !ok {
		writeError(w, &apiError{http.StatusBadRequest, "UnknownOperationException", ""})
		return
	}
	out, aerr := h(p, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{http.StatusInternalServerError, "InternalErrorException", "cognitotest: " + err.Error()})
		return
	}
	setHeaders(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func setHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", newUUID())
}

func writeError(w http.ResponseWriter, e *apiError) {
	setHeaders(w)
	w.Header().Set("X-Amzn-Errortype", e.errType+":")
	if e.message != "" {
		w.Header().Set("X-Amzn-Errormessage", e.message)
	}
	w.WriteHeader(e.status)
	body := map[string]string{"__type": e.errType}
	if e.message != "" {
		body["message"] = e.message
	}
	_ = json.NewEncoder(w).Encode(body)
}

// decode unmarshals an API request body.
func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{http.StatusBadRequest, "SerializationException", "Malformed request body."}
	}
	return nil
}
