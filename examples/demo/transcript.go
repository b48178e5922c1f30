package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type token struct {
	label, value string
	id           bool // an ID token, whose revocation Cognito words differently
}

func tok(label string, v *string) token { return token{label: label, value: aws.ToString(v)} }

func idTok(label string, v *string) token {
	return token{label: label, value: aws.ToString(v), id: true}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (d *demo) do(in *instance, method, path string, t token) (response, error) {
	req, err := http.NewRequest(method, in.srv.URL+path, nil)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+t.value)
	res, err := d.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return response{res.StatusCode, res.Header, string(b)}, err
}

// expect sends the request once and checks its status: the stores wait
// for every instance to apply a sign-out (WaitInstances), so there is
// nothing to wait for.
func (d *demo) expect(in *instance, method, path string, t token, want int) response {
	return d.expectNote(in, method, path, t, want, "")
}

func (d *demo) expectNote(in *instance, method, path string, t token, want int, note string) response {
	return d.expectWith(in, method, path, t, want, note, false)
}

// expectRevoked checks that GET /me with t is refused as revoked: 401 with
// error_description="Access Token has been revoked" ("Token has been
// revoked" for an ID token).
func (d *demo) expectRevoked(in *instance, t token) response {
	desc := "Access Token has been revoked"
	if t.id {
		desc = "Token has been revoked"
	}
	return d.expectWith(in, "GET", "/me", t, http.StatusUnauthorized, desc, true)
}

func (d *demo) expectWith(in *instance, method, path string, t token, want int, note string, revoked bool) response {
	res, err := d.do(in, method, path, t)
	what := fmt.Sprintf("%s  %-4s %-7s %-16s →", in.name, method, path, t.label)
	if err != nil {
		d.check(false, "%s %v", what, err)
		return res
	}
	ok := res.status == want
	if ok && revoked {
		ok = strings.Contains(res.header.Get("WWW-Authenticate"), `error_description="`+note+`"`)
	}
	line := fmt.Sprintf("%s %d", what, res.status)
	switch {
	case res.status != want:
		line += fmt.Sprintf(" (want %d)", want)
	case !ok:
		line += fmt.Sprintf(" but WWW-Authenticate: %s (want the revoked description)", res.header.Get("WWW-Authenticate"))
	case note != "":
		line += "  " + note
	}
	d.check(ok, "%s", line)
	return res
}

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.out, format+"\n", args...) }

func (d *demo) begin(n int, title string) {
	d.step, d.title, d.failures = n, title, nil
	d.say("")
	d.say("%d. %s", n, title)
}

func (d *demo) check(ok bool, format string, args ...any) {
	mark := "✓"
	if !ok {
		mark = "✗"
		d.failures = append(d.failures, strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " "))
	}
	d.say("   %s %s", mark, fmt.Sprintf(format, args...))
}

// end returns an error naming the step if one of its checks failed.
func (d *demo) end() error {
	if len(d.failures) == 0 {
		return nil
	}
	d.say("")
	d.say("✗ Step %d did not behave as described.", d.step)
	more := ""
	if n := len(d.failures) - 1; n > 0 {
		more = fmt.Sprintf(" (and %d more)", n)
	}
	return fmt.Errorf("%w: step %d (%s): %s%s", errStep, d.step, d.title, d.failures[0], more)
}

// fail reports an error that stopped the step.
func (d *demo) fail(err error) error {
	d.check(false, "%v", err)
	return d.end()
}
