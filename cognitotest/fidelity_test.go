package cognitotest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// These tests hold the fake to Cognito's documented behaviour where a
// black-box probe through the real SDK found it lenient.

// TestGlobalSignOutDeletedUser: GlobalSignOut with the token of a deleted
// user answers an error of GlobalSignOut's documented set
// (NotAuthorizedException), which the SDK returns typed; GetUser, whose set
// has UserNotFoundException, keeps it.
func TestGlobalSignOutDeletedUser(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	c := sdkClient(p)
	p.AddUser(cognitotest.User{Username: "alice"})
	tok := p.AccessToken("alice")
	if _, err := c.AdminDeleteUser(t.Context(), &cip.AdminDeleteUserInput{UserPoolId: aws.String(p.PoolID()), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: aws.String(tok)})
	var na *types.NotAuthorizedException
	if !errors.As(err, &na) {
		t.Fatalf("GlobalSignOut with a deleted user's token: %v, want *types.NotAuthorizedException", err)
	}
	_, err = c.GetUser(t.Context(), &cip.GetUserInput{AccessToken: aws.String(tok)})
	var nf *types.UserNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetUser with a deleted user's token: %v, want *types.UserNotFoundException", err)
	}
}

// TestPreventUserExistenceErrors: a sign-in of an unknown user answers as
// the app client's PreventUserExistenceErrors says: LEGACY (the default of
// clients created through the API) UserNotFoundException, ENABLED (the
// default of clients of Config) NotAuthorizedException as a wrong password.
func TestPreventUserExistenceErrors(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{Clients: []cognitotest.AppClient{
		{ID: "enabled"},
		{ID: "legacy", PreventUserExistenceErrors: cognitotest.PreventUserExistenceLegacy},
	}})
	c := sdkClient(p)
	p.AddUser(cognitotest.User{Username: "alice", Password: "Secret-1"})
	create := func(prevent types.PreventUserExistenceErrorTypes) string {
		t.Helper()
		out, err := c.CreateUserPoolClient(t.Context(), &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(p.PoolID()), ClientName: aws.String("api"),
			ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth},
			PreventUserExistenceErrors: prevent,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := prevent
		if want == "" {
			want = types.PreventUserExistenceErrorTypesLegacy
		}
		if got := out.UserPoolClient.PreventUserExistenceErrors; got != want {
			t.Errorf("CreateUserPoolClient(%q): PreventUserExistenceErrors %q, want %q", prevent, got, want)
		}
		return *out.UserPoolClient.ClientId
	}
	apiDefault, apiEnabled := create(""), create(types.PreventUserExistenceErrorTypesEnabled)
	for _, tc := range []struct {
		client, user, code, msg string
	}{
		{apiDefault, "nobody", "UserNotFoundException", "User does not exist."},
		{apiDefault, "alice", "NotAuthorizedException", "Incorrect username or password."},
		{apiEnabled, "nobody", "NotAuthorizedException", "Incorrect username or password."},
		{"legacy", "nobody", "UserNotFoundException", "User does not exist."},
		{"enabled", "nobody", "NotAuthorizedException", "Incorrect username or password."},
	} {
		t.Run(tc.client+"/"+tc.user, func(t *testing.T) {
			params := map[string]string{"USERNAME": tc.user, "PASSWORD": "wrong"}
			_, err := c.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
				AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(tc.client), AuthParameters: params,
			})
			wantAPIError(t, err, tc.code, tc.msg)
			_, err = c.AdminInitiateAuth(t.Context(), &cip.AdminInitiateAuthInput{
				UserPoolId: aws.String(p.PoolID()), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
				ClientId: aws.String(tc.client), AuthParameters: params,
			})
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
}

// TestInvalidParameters: a malformed pool ID or a username over 128
// characters is InvalidParameterException, before the pool or the user is
// looked up; a well-formed unknown pool stays ResourceNotFoundException.
func TestInvalidParameters(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	c := sdkClient(p)
	long := strings.Repeat("a", 129)
	for _, tc := range []struct {
		name, pool, user, code string
	}{
		{"malformed pool ID", "not-a-pool", "alice", "InvalidParameterException"},
		{"pool ID with a slash", "us-east-1_abc/def", "alice", "InvalidParameterException"},
		{"pool ID too long", "us-east-1_" + strings.Repeat("a", 50), "alice", "InvalidParameterException"},
		{"unknown pool", "us-east-1_Other123", "alice", "ResourceNotFoundException"},
		{"EU sovereign pool ID", "eusc-de-east-1_Other123", "alice", "ResourceNotFoundException"},
		{"username of 129 characters", p.PoolID(), long, "InvalidParameterException"},
		{"username of 128 characters", p.PoolID(), long[:128], "UserNotFoundException"},
		{"username with a control character", p.PoolID(), "al\nice", "InvalidParameterException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: aws.String(tc.pool), Username: aws.String(tc.user)})
			wantAPIError(t, err, tc.code, "")
			_, err = c.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(tc.pool), Username: aws.String(tc.user)})
			wantAPIError(t, err, tc.code, "")
		})
	}
	_, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String("bad pool")})
	wantAPIError(t, err, "InvalidParameterException", "userPoolId")
}

// TestUnsignedAdminCalls: Admin operations (IAM-authorized) refuse a
// request without a SigV4 Authorization header; operations authorized by
// a token or a client ID do not need one.
func TestUnsignedAdminCalls(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	alice := p.AddUser(cognitotest.User{Username: "alice", Password: "Secret-1"})
	anon := p.Client(func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	pool, name := aws.String(p.PoolID()), aws.String("alice")
	for name, call := range map[string]func() error{
		"AdminGetUser": func() error {
			_, err := anon.AdminGetUser(t.Context(), &cip.AdminGetUserInput{UserPoolId: pool, Username: name})
			return err
		},
		"AdminUserGlobalSignOut": func() error {
			_, err := anon.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: pool, Username: name})
			return err
		},
		"ListUsers": func() error {
			_, err := anon.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: pool})
			return err
		},
		"CreateUserPoolClient": func() error {
			_, err := anon.CreateUserPoolClient(t.Context(), &cip.CreateUserPoolClientInput{UserPoolId: pool, ClientName: aws.String("x")})
			return err
		},
	} {
		wantAPIError(t, call(), "MissingAuthenticationTokenException", "Missing Authentication Token")
		if n := p.Calls(name); n != 1 {
			t.Errorf("%s: %d calls counted, want 1", name, n)
		}
	}
	if _, ok := p.SignedOutAt(alice.Sub); ok {
		t.Error("an unsigned AdminUserGlobalSignOut signed alice out")
	}
	out, err := anon.InitiateAuth(t.Context(), &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(p.ClientID()),
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Secret-1"},
	})
	if err != nil {
		t.Fatalf("unsigned InitiateAuth: %v", err)
	}
	if _, err := anon.GlobalSignOut(t.Context(), &cip.GlobalSignOutInput{AccessToken: out.AuthenticationResult.AccessToken}); err != nil {
		t.Fatalf("unsigned GlobalSignOut: %v", err)
	}
}

// TestListUsers: ListUsers lists the pool's users with their attributes,
// filtered by one attribute (= or ^=), a page at a time; the sub filter
// maps a CloudTrail record's sub to its user.
func TestListUsers(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	c := sdkClient(p)
	alice := p.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Attributes: map[string]string{"name": "Alice A"}})
	p.AddUser(cognitotest.User{Username: "albert", Email: "albert@example.com", Disabled: true})
	p.AddUser(cognitotest.User{Username: "bob", Status: cognitotest.StatusUnconfirmed})
	list := func(filter string, limit int32) ([]string, error) {
		t.Helper()
		in := &cip.ListUsersInput{UserPoolId: aws.String(p.PoolID())}
		if filter != "" {
			in.Filter = aws.String(filter)
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		var names []string
		for pages := cip.NewListUsersPaginator(c, in); pages.HasMorePages(); {
			out, err := pages.NextPage(t.Context())
			if err != nil {
				return nil, err
			}
			if limit > 0 && len(out.Users) > int(limit) {
				t.Errorf("page of %d users, limit %d", len(out.Users), limit)
			}
			for _, u := range out.Users {
				names = append(names, aws.ToString(u.Username))
			}
		}
		return names, nil
	}
	for _, tc := range []struct {
		filter string
		limit  int32
		want   string
	}{
		{"", 0, "alice albert bob"},
		{"", 1, "alice albert bob"},
		{fmt.Sprintf("sub = %q", alice.Sub), 0, "alice"},
		{fmt.Sprintf(`sub="%s"`, alice.Sub), 0, "alice"},
		{`username ^= "al"`, 0, "alice albert"},
		{`username = "Alice"`, 0, ""},
		{`email = "albert@example.com"`, 0, "albert"},
		{`cognito:user_status = "unconfirmed"`, 0, "bob"},
		{`name = "Alice A"`, 0, "alice"},
		{`status = "Disabled"`, 0, "albert"},
		{`cognito:user_status = "UNCONFIRMED"`, 0, "bob"},
	} {
		got, err := list(tc.filter, tc.limit)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("ListUsers(%q, limit %d) = %q, %v; want %q", tc.filter, tc.limit, got, err, tc.want)
		}
	}
	out, err := c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(p.PoolID()), Filter: aws.String(fmt.Sprintf("sub = %q", alice.Sub))})
	if err != nil {
		t.Fatal(err)
	}
	u := out.Users[0]
	if !u.Enabled || u.UserStatus != types.UserStatusTypeConfirmed || u.UserCreateDate == nil || attr(u.Attributes, "sub") != alice.Sub || attr(u.Attributes, "email") != "alice@example.com" {
		t.Errorf("ListUsers user %+v", u)
	}
	for _, bad := range []string{`custom:tenant = "a"`, `sub = alice`, `sub == "x"`, `sub = "x" and email = "y"`} {
		_, err := list(bad, 0)
		wantAPIError(t, err, "InvalidParameterException", "")
	}
	_, err = c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(p.PoolID()), Limit: aws.Int32(61)})
	wantAPIError(t, err, "InvalidParameterException", "")
	_, err = c.ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(p.PoolID()), PaginationToken: aws.String("forged")})
	wantAPIError(t, err, "InvalidParameterException", "")
}

func attr(attrs []types.AttributeType, name string) string {
	for _, a := range attrs {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// TestMintUnknownUser: minting for a name that matches no user panics,
// unless the pool was told to add such users (Config.ImplicitUsers).
func TestMintUnknownUser(t *testing.T) {
	p, _ := newPool(t, cognitotest.Config{})
	for name, mint := range map[string]func(){
		"AccessToken": func() { p.AccessToken("nobody") },
		"IDToken":     func() { p.IDToken("nobody") },
		"SignIn":      func() { p.SignIn("nobody") },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"nobody"`) {
					t.Errorf("%s of an unknown user: recovered %v, want a panic naming the user", name, r)
				}
			}()
			mint()
		}()
	}
	if _, ok := p.User("nobody"); ok {
		t.Error("a failed mint added the user")
	}
	q, _ := newPool(t, cognitotest.Config{ImplicitUsers: true})
	q.AccessToken("carol")
	if u, ok := q.User("carol"); !ok || u.Username != "carol" || u.Sub == "" {
		t.Errorf("ImplicitUsers: user %+v, %v; want carol added", u, ok)
	}
}
