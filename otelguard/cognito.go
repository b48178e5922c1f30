package otelguard

import (
	"context"
	"errors"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cognitoguard/cognitoguard/signout"
)

// Cognito call attribute keys.
const (
	AttrCognitoOperation = attribute.Key("cognitoguard.cognito.operation") // GlobalSignOut, AdminUserGlobalSignOut, …
	AttrCognitoOutcome   = attribute.Key("cognitoguard.cognito.outcome")   // ok, or the failure (see Telemetry.Cognito)
)

// cognitoOutcomes names the failures of [signout.MapCognitoError]'s kinds;
// any other failure (another exception, the network, a timeout) is
// "failed".
var cognitoOutcomes = []struct {
	kind error
	name string
}{
	{signout.ErrNotAuthorized, "not_authorized"},
	{signout.ErrInvalidParameter, "invalid_parameter"},
	{signout.ErrResourceNotFound, "resource_not_found"},
	{signout.ErrTooManyRequests, "too_many_requests"},
	{signout.ErrUserNotFound, "user_not_found"},
	{signout.ErrCognitoInternal, "internal_error"},
}

var cognitoOps = []string{"GlobalSignOut", "AdminUserGlobalSignOut", "AdminGetUser",
	"AdminDisableUser", "AdminDeleteUser", "RevokeToken"}

// cognitoSets are the attribute sets of every operation and outcome, made
// once so that counting allocates none.
var cognitoSets = func() map[[2]string]metric.AddOption {
	m := make(map[[2]string]metric.AddOption)
	for _, op := range cognitoOps {
		for _, out := range append([]string{"ok", "failed"}, outcomeNames()...) {
			m[[2]string{op, out}] = metric.WithAttributeSet(attribute.NewSet(
				AttrCognitoOperation.String(op), AttrCognitoOutcome.String(out)))
		}
	}
	return m
}()

func outcomeNames() []string {
	var names []string
	for _, o := range cognitoOutcomes {
		names = append(names, o.name)
	}
	return names
}

// Cognito returns api counting its calls in the counter
// cognitoguard.cognito.calls, by cognitoguard.cognito.operation (the
// method) and cognitoguard.cognito.outcome: ok; not_authorized,
// invalid_parameter, resource_not_found, too_many_requests,
// user_not_found or internal_error for those exceptions (see
// [signout.MapCognitoError]); failed for any other failure (another
// exception, the network, a timeout). Give the result to [signout.New] in
// place of the Cognito client, so that a sign-out Cognito refused is a
// metric as well as the caller's error.
func (t *Telemetry) Cognito(api signout.CognitoAPI) signout.CognitoAPI {
	return &cognitoClient{api: api, t: t}
}

type cognitoClient struct {
	api signout.CognitoAPI
	t   *Telemetry
}

func (c *cognitoClient) count(ctx context.Context, op string, err error) {
	out := "ok"
	if err != nil {
		out = "failed"
		kind := signout.MapCognitoError(err)
		for _, o := range cognitoOutcomes {
			if errors.Is(kind, o.kind) {
				out = o.name
				break
			}
		}
	}
	c.t.cognitoCalls.Add(ctx, 1, cognitoSets[[2]string{op, out}])
}

func (c *cognitoClient) GlobalSignOut(ctx context.Context, in *cip.GlobalSignOutInput, opts ...func(*cip.Options)) (*cip.GlobalSignOutOutput, error) {
	out, err := c.api.GlobalSignOut(ctx, in, opts...)
	c.count(ctx, "GlobalSignOut", err)
	return out, err
}

func (c *cognitoClient) AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, opts ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error) {
	out, err := c.api.AdminUserGlobalSignOut(ctx, in, opts...)
	c.count(ctx, "AdminUserGlobalSignOut", err)
	return out, err
}

func (c *cognitoClient) AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, opts ...func(*cip.Options)) (*cip.AdminGetUserOutput, error) {
	out, err := c.api.AdminGetUser(ctx, in, opts...)
	c.count(ctx, "AdminGetUser", err)
	return out, err
}

func (c *cognitoClient) AdminDisableUser(ctx context.Context, in *cip.AdminDisableUserInput, opts ...func(*cip.Options)) (*cip.AdminDisableUserOutput, error) {
	out, err := c.api.AdminDisableUser(ctx, in, opts...)
	c.count(ctx, "AdminDisableUser", err)
	return out, err
}

func (c *cognitoClient) AdminDeleteUser(ctx context.Context, in *cip.AdminDeleteUserInput, opts ...func(*cip.Options)) (*cip.AdminDeleteUserOutput, error) {
	out, err := c.api.AdminDeleteUser(ctx, in, opts...)
	c.count(ctx, "AdminDeleteUser", err)
	return out, err
}

func (c *cognitoClient) RevokeToken(ctx context.Context, in *cip.RevokeTokenInput, opts ...func(*cip.Options)) (*cip.RevokeTokenOutput, error) {
	out, err := c.api.RevokeToken(ctx, in, opts...)
	c.count(ctx, "RevokeToken", err)
	return out, err
}
