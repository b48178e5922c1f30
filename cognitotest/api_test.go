package cognitotest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// wantAPIError checks that err is an SDK API error of type code with a
// message containing msg.
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("error = %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func TestSDKFailNext(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	c := sdkClient(p)
	signOut := func() error {
		_, err := c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{
			UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice"),
		})
		return err
	}
	p.AddUser(cognitotest.User{Username: "alice"})

	tests := []struct {
		errType string
		status  int
		as      func(error) bool
	}{
		{"TooManyRequestsException", 400, func(err error) bool { var e *types.TooManyRequestsException; return errors.As(err, &e) }},
		{"InternalErrorException", 0, func(err error) bool { var e *types.InternalErrorException; return errors.As(err, &e) }}, // 500 by default
		{"NotAuthorizedException", 400, func(err error) bool { var e *types.NotAuthorizedException; return errors.As(err, &e) }},
		{"InvalidParameterException", 0, func(err error) bool { var e *types.InvalidParameterException; return errors.As(err, &e) }},
		{"ResourceNotFoundException", 400, func(err error) bool { var e *types.ResourceNotFoundException; return errors.As(err, &e) }},
		{"UserNotFoundException", 400, func(err error) bool { var e *types.UserNotFoundException; return errors.As(err, &e) }},
	}
	for _, tt := range tests {
		t.Run(tt.errType, func(t *testing.T) {
			before := p.Calls("AdminUserGlobalSignOut")
			p.FailNext("AdminUserGlobalSignOut", tt.errType, tt.status, 2)
			for i := range 2 {
				err := signOut()
				if !tt.as(err) {
					t.Fatalf("call %d: error = %v, want %s", i, err, tt.errType)
				}
				var re interface{ HTTPStatusCode() int }
				want := tt.status
				switch {
				case want != 0:
				case tt.errType == "InternalErrorException":
					want = 500
				default:
					want = 400
				}
				if errors.As(err, &re) && re.HTTPStatusCode() != want {
					t.Errorf("HTTP status %d, want %d", re.HTTPStatusCode(), want)
				}
			}
			if err := signOut(); err != nil {
				t.Errorf("third call: %v, want success", err)
			}
			if got := p.Calls("AdminUserGlobalSignOut") - before; got != 3 {
				t.Errorf("Calls = +%d, want +3", got)
			}
		})
	}

	t.Run("queue and cancel", func(t *testing.T) {
		p.FailNext("AdminGetUser", "TooManyRequestsException", 400, 1)
		p.FailNext("AdminGetUser", "InternalErrorException", 500, 1)
		get := func() error {
			_, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")})
			return err
		}
		wantAPIError(t, get(), "TooManyRequestsException", "")
		wantAPIError(t, get(), "InternalErrorException", "")
		p.FailNext("AdminGetUser", "InternalErrorException", 500, 5)
		p.FailNext("AdminGetUser", "", 0, 0)
		if err := get(); err != nil {
			t.Errorf("after cancel: %v", err)
		}
	})
}

func TestSDKAPIDelay(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	p.AddUser(cognitotest.User{Username: "alice"})
	c := sdkClient(p)
	p.SetAPIDelay(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if p.Calls("AdminGetUser") != 1 {
		t.Errorf("Calls = %d, want 1", p.Calls("AdminGetUser"))
	}
	p.SetAPIDelay(0)
	if _, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
}

func TestCloseCutsDelay(t *testing.T) {
	p := cognitotest.NewPool(cognitotest.Config{})
	p.SetAPIDelay(time.Hour)
	errc := make(chan error, 1)
	go func() {
		_, err := sdkClient(p).GetUser(context.Background(), &cip.GetUserInput{AccessToken: aws.String("x")})
		errc <- err
	}()
	for p.Calls("GetUser") == 0 {
		time.Sleep(time.Millisecond) // wait for the request to arrive
	}
	p.Close() // must not wait an hour
	if err := <-errc; err == nil {
		t.Error("delayed call succeeded after Close")
	}
}

func TestAPIProtocol(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	post := func(t *testing.T, target string, body []byte) (*http.Response, map[string]string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL()+"/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if !strings.Contains(target, "Unsigned") {
			// A SigV4 header; the pool checks it is there, not the signature.
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20250304/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0")
		}
		target = strings.TrimSuffix(target, "Unsigned")
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		_ = json.Unmarshal(b, &m)
		return resp, m
	}

	tests := []struct {
		name       string
		target     string
		body       []byte
		wantStatus int
		wantType   string
	}{
		{"no target", "", []byte(`{}`), 400, "UnknownOperationException"},
		{"other service", "DynamoDB_20120810.GetItem", []byte(`{}`), 400, "UnknownOperationException"},
		{"unknown operation", "AWSCognitoIdentityProviderService.CreateUserPool", []byte(`{}`), 400, "UnknownOperationException"},
		{"malformed body", "AWSCognitoIdentityProviderService.AdminGetUser", []byte(`{`), 400, "SerializationException"},
		{"body too large", "AWSCognitoIdentityProviderService.AdminGetUser", bytes.Repeat([]byte(" "), 1<<20+1), 413, "SerializationException"},
		{"not authorized", "AWSCognitoIdentityProviderService.GlobalSignOut", []byte(`{"AccessToken":"x.y.z"}`), 400, "NotAuthorizedException"},
		{"unsigned admin call", "AWSCognitoIdentityProviderService.AdminGetUserUnsigned", []byte(`{}`), 403, "MissingAuthenticationTokenException"},
		{"unsigned public call", "AWSCognitoIdentityProviderService.GlobalSignOutUnsigned", []byte(`{"AccessToken":"x.y.z"}`), 400, "NotAuthorizedException"},
		{"message header", "AWSCognitoIdentityProviderService.AdminGetUser", []byte(`{"UserPoolId":"` + p.PoolID() + `","Username":"nobody"}`), 400, "UserNotFoundException"},
		{"success", "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut", []byte(`{"UserPoolId":"` + p.PoolID() + `","Username":"` + p.AddUser(cognitotest.User{Username: "u"}).Sub + `"}`), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, m := post(t, tt.target, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.wantType == "" {
				if resp.Header.Get("X-Amzn-ErrorType") != "" || len(m) != 0 {
					t.Errorf("success carries an error: %v %v", resp.Header, m)
				}
				return
			}
			if got := resp.Header.Get("X-Amzn-ErrorType"); got != tt.wantType+":" {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tt.wantType+":")
			}
			if m["__type"] != tt.wantType {
				t.Errorf("body __type = %q, want %q", m["__type"], tt.wantType)
			}
			if got := resp.Header.Get("X-Amzn-ErrorMessage"); got != m["message"] {
				t.Errorf("X-Amzn-ErrorMessage = %q, want the body's message %q", got, m["message"])
			}
		})
	}
	t.Run("GET / refused", func(t *testing.T) {
		resp, err := http.Get(p.URL() + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", resp.StatusCode)
		}
	})
	t.Run("SDK sees an unknown operation as a generic API error", func(t *testing.T) {
		_, err := sdkClient(p).DescribeUserPool(t.Context(), &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.PoolID())})
		wantAPIError(t, err, "UnknownOperationException", "")
		if p.Calls("DescribeUserPool") != 1 {
			t.Errorf("Calls(DescribeUserPool) = %d", p.Calls("DescribeUserPool"))
		}
	})
}
