package cognitotest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// User statuses, as AdminGetUser reports them (UserStatus).
const (
	StatusConfirmed        = "CONFIRMED"
	StatusUnconfirmed      = "UNCONFIRMED"
	StatusResetRequired    = "RESET_REQUIRED"
	StatusExternalProvider = "EXTERNAL_PROVIDER"
)

// User is a user of a [Pool].
type User struct {
	// Username is the user name (cognito:username, username). Required
	// for a local user; a federated user's is ProviderName + "_" + UserID
	// of its Identity, which AddUser fills in when Username is empty.
	Username string
	// Sub is the user's immutable ID. If empty, AddUser generates one in
	// UUID version 4 format, as Cognito does.
	Sub string
	// Email is the email attribute. If empty, the email claims are left
	// out. See [Config.AliasAttributes] for signing in with it.
	Email string
	// Password is what the API's password flows accept. A user with an
	// empty Password cannot sign in through the API (SignIn still works).
	// A federated user MUST NOT have one.
	Password string
	// Groups are the user's groups (cognito:groups), in order. If empty,
	// the claim is left out, as Cognito does. A federated user is also in
	// the group PoolID + "_" + ProviderName, as in Cognito.
	Groups []string
	// Attributes are further user attributes, such as "custom:tenant",
	// "name", "email_verified" or "phone_number". They appear as string
	// claims of ID tokens (except "email_verified" and
	// "phone_number_verified", which are booleans) and in AdminGetUser and
	// GetUser. None is implied: email_verified is present only when set.
	Attributes map[string]string
	// Status is a local user's UserStatus: StatusConfirmed (the default),
	// StatusUnconfirmed (a password sign-in then fails with
	// UserNotConfirmedException) or StatusResetRequired
	// (PasswordResetRequiredException). A federated user's is always
	// StatusExternalProvider. AddUser panics on any other value.
	Status string
	// Disabled users cannot sign in ("User is disabled."), and the pool's
	// API refuses their tokens; AdminGetUser reports Enabled false.
	Disabled bool
	// Identity, when set, makes the user a federated user of a
	// third-party identity provider, as Cognito creates one at its first
	// sign-in through the hosted UI: status EXTERNAL_PROVIDER, an
	// "identities" claim in ID tokens, and the Admin* API operations
	// find it by Username only, never by sub.
	Identity *Identity
}

// Identity is the link of a federated [User] to its identity provider.
type Identity struct {
	// ProviderName is the provider's name in the pool, such as "Google",
	// "Facebook", "SignInWithApple", "LoginWithAmazon" or the name given
	// to a SAML or OIDC provider. Required.
	ProviderName string
	// ProviderType is "Google", "Facebook", "SignInWithApple",
	// "LoginWithAmazon", "SAML" or "OIDC". If empty, it is ProviderName
	// for the four social providers and "OIDC" otherwise.
	ProviderType string
	// UserID is the user's ID at the provider, such as its sub. Required.
	UserID string
}

type userRecord struct {
	User
	created  time.Time
	modified time.Time
}

func (u User) clone() User {
	u.Groups = slices.Clone(u.Groups)
	u.Attributes = maps.Clone(u.Attributes)
	if u.Identity != nil {
		id := *u.Identity
		u.Identity = &id
	}
	return u
}

func (u User) federated() bool { return u.Identity != nil }

// status is the UserStatus of u.
func (u User) status() string {
	switch {
	case u.federated():
		return StatusExternalProvider
	case u.Status == "":
		return StatusConfirmed
	}
	return u.Status
}

// normalize fills in the defaults of a federated user and panics on an
// invalid user.
func (u *User) normalize() {
	if id := u.Identity; id != nil {
		if id.ProviderName == "" || id.UserID == "" {
			panic("cognitotest: AddUser: Identity needs ProviderName and UserID")
		}
		if id.ProviderType == "" {
			id.ProviderType = "OIDC"
			switch id.ProviderName {
			case "Google", "Facebook", "SignInWithApple", "LoginWithAmazon":
				id.ProviderType = id.ProviderName
			}
		}
		name := id.ProviderName + "_" + id.UserID
		if u.Username == "" {
			u.Username = name
		}
		switch {
		case u.Username != name:
			panic(fmt.Sprintf("cognitotest: AddUser: federated username %q, want %q", u.Username, name))
		case u.Password != "":
			panic("cognitotest: AddUser: a federated user has no password")
		case u.Status != "" && u.Status != StatusExternalProvider:
			panic("cognitotest: AddUser: a federated user's status is " + StatusExternalProvider)
		}
		u.Status = StatusExternalProvider
		return
	}
	if u.Username == "" {
		panic("cognitotest: AddUser: empty Username")
	}
	switch u.Status {
	case "", StatusConfirmed, StatusUnconfirmed, StatusResetRequired:
	default:
		panic(fmt.Sprintf("cognitotest: AddUser: unsupported status %q", u.Status))
	}
	if u.Status == "" {
		u.Status = StatusConfirmed
	}
}

// AddUser adds u to the pool and returns the stored user, with its
// defaults filled in. If u.Sub is empty a new one is generated (UUID
// version 4 format). If a user with the same Username exists it is
// replaced, keeping its Sub unless u.Sub is set. AddUser panics if u is
// invalid (see [User] and [Identity]) or u.Sub is another user's.
func (p *Pool) AddUser(u User) User {
	u = u.clone()
	if p.usernameAttrs && u.Username == "" && u.Identity == nil {
		if u.Sub == "" {
			u.Sub = newUUID()
		}
		u.Username = u.Sub
	}
	u.normalize()
	p.mu.Lock()
	defer p.mu.Unlock()
	existing := p.userByUsernameLocked(u.Username)
	if u.Sub == "" {
		if existing != nil {
			u.Sub = existing.Sub
		} else {
			u.Sub = newUUID()
		}
	}
	for _, r := range p.users {
		if r.Sub == u.Sub && r != existing {
			panic(fmt.Sprintf("cognitotest: AddUser: sub %q already belongs to %q", u.Sub, r.Username))
		}
	}
	now := p.now()
	if existing != nil {
		existing.User = u
		existing.modified = now
		return u.clone()
	}
	p.users = append(p.users, &userRecord{User: u, created: now, modified: now})
	return u.clone()
}

// User returns the user that the API's Admin* operations (AdminGetUser,
// AdminUserGlobalSignOut, …) find by name, as Cognito does: the username,
// else the sub of a local user (never of a federated one), else an alias
// or username attribute ([Config.AliasAttributes],
// [Config.UsernameAttributes]), with the pool's case sensitivity
// ([Config.CaseInsensitive]).
func (p *Pool) User(name string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.lookupLocked(name)
	if r == nil {
		return User{}, false
	}
	return r.User.clone(), true
}

// signInAttr is an attribute that names a user besides its username.
type signInAttr struct {
	name     string
	verified bool // only a verified value names the user
}

// signInAttrs checks Config's AliasAttributes and UsernameAttributes.
func signInAttrs(alias, username []string) (attrs []signInAttr, usernameAttrs bool) {
	if len(alias) > 0 && len(username) > 0 {
		panic("cognitotest: both AliasAttributes and UsernameAttributes")
	}
	for _, a := range alias {
		if a != "email" && a != "phone_number" && a != "preferred_username" {
			panic(fmt.Sprintf("cognitotest: invalid alias attribute %q", a))
		}
		attrs = append(attrs, signInAttr{a, a != "preferred_username"})
	}
	for _, a := range username {
		if a != "email" && a != "phone_number" {
			panic(fmt.Sprintf("cognitotest: invalid username attribute %q", a))
		}
		attrs = append(attrs, signInAttr{a, false})
	}
	return attrs, len(username) > 0
}

// attr returns the value of attribute name, the Email field for "email".
func (u User) attr(name string) string {
	if name == "email" {
		return u.Email
	}
	return u.Attributes[name]
}

// sameName compares sign-in names with the pool's case sensitivity.
func (p *Pool) sameName(a, b string) bool {
	if p.foldCase {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func (p *Pool) userByUsernameLocked(name string) *userRecord {
	for _, r := range p.users {
		if p.sameName(r.Username, name) {
			return r
		}
	}
	return nil
}

// lookupLocked resolves the Username parameter of Cognito's Admin*
// operations.
func (p *Pool) lookupLocked(name string) *userRecord {
	if name == "" {
		return nil
	}
	if r := p.userByUsernameLocked(name); r != nil {
		return r
	}
	if r := p.userBySubLocked(name); r != nil && !r.federated() {
		return r
	}
	return p.userByAliasLocked(name)
}

// userByAliasLocked finds a user by one of the pool's alias or username
// attributes. A phone number is compared exactly, as Cognito stores it
// in E.164 format. When several users share a value, the earliest added
// wins (Cognito refuses the clash).
func (p *Pool) userByAliasLocked(name string) *userRecord {
	for _, a := range p.signInAttrs {
		for _, r := range p.users {
			v := r.attr(a.name)
			if v == "" || a.verified && r.Attributes[a.name+"_verified"] != "true" {
				continue
			}
			if v == name || a.name != "phone_number" && p.sameName(v, name) {
				return r
			}
		}
	}
	return nil
}

func (p *Pool) userBySubLocked(sub string) *userRecord {
	for _, r := range p.users {
		if r.Sub == sub {
			return r
		}
	}
	return nil
}

// userForMintLocked resolves the name given to the minting methods: a
// username, a sub of any user (minting is no API call), or what the
// Admin* operations accept. When nothing matches, it adds a local user
// with that username if the pool has ImplicitUsers, else it panics.
func (p *Pool) userForMintLocked(name string) *userRecord {
	if name == "" {
		panic("cognitotest: empty username")
	}
	if r := p.userByUsernameLocked(name); r != nil {
		return r
	}
	if r := p.userBySubLocked(name); r != nil {
		return r
	}
	if r := p.userByAliasLocked(name); r != nil {
		return r
	}
	if !p.implicitUsers {
		panic(fmt.Sprintf("cognitotest: no user %q in the pool: add it with AddUser first, or set Config.ImplicitUsers", name))
	}
	now := p.now()
	r := &userRecord{User: User{Username: name, Sub: newUUID(), Status: StatusConfirmed}, created: now, modified: now}
	p.users = append(p.users, r)
	return r
}

// mintUser returns the user that the minting methods resolve name to,
// adding or refusing it as they do.
func (p *Pool) mintUser(name string) User {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.userForMintLocked(name).User.clone()
}

// deleteUserLocked removes r and revokes its sessions.
func (p *Pool) deleteUserLocked(r *userRecord) {
	p.revokeAllLocked(r.Sub, p.now())
	p.users = slices.DeleteFunc(p.users, func(u *userRecord) bool { return u == r })
	for k := range p.current {
		if k.sub == r.Sub {
			delete(p.current, k)
		}
	}
}

// AdminUserGlobalSignOut signs the user out as the API operation of that
// name does, without an HTTP round trip: every refresh token of the user
// is revoked, and so are the access tokens of those sessions as far as
// the pool's own API is concerned. username is resolved as by
// [Pool.User]. It reports whether the user exists.
func (p *Pool) AdminUserGlobalSignOut(username string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.lookupLocked(username)
	if r == nil {
		return false
	}
	p.revokeAllLocked(r.Sub, p.now())
	return true
}

// identitiesClaim is the "identities" claim of a federated user's ID
// token, in Cognito's member order and string-typed values.
func identitiesClaim(id *Identity, created time.Time) []any {
	var o object
	o.set("userId", id.UserID)
	o.set("providerName", id.ProviderName)
	o.set("providerType", id.ProviderType)
	o.set("issuer", nil)
	o.set("primary", "true")
	o.set("dateCreated", strconv.FormatInt(created.UnixMilli(), 10))
	return []any{json.RawMessage(o.encode())}
}
