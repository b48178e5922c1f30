package events

// Kind is what an event name means for the consumer.
type Kind int

// Kinds of Cognito events.
const (
	// KindOther is every event that signs nobody out: sign-ins
	// (InitiateAuth), hosted-UI requests (Token_POST, Logout_GET), reads,
	// configuration changes and names this package does not know.
	KindOther Kind = iota
	// KindSignOut revokes every token of the user and is always honoured:
	// GlobalSignOut, AdminUserGlobalSignOut, AdminDisableUser,
	// AdminDeleteUser, DeleteUser.
	KindSignOut
	// KindPassword is a password change or reset (ChangePassword,
	// ConfirmForgotPassword, AdminSetUserPassword, AdminResetUserPassword),
	// honoured only with [Config.Passwords].
	KindPassword
	// KindSession revokes one session (RevokeToken, RevokeUserSession,
	// AdminRevokeUserSession); the record hides which, so it is honoured
	// as a sign-out of the whole user, only with [Config.Sessions].
	KindSession
)

var kinds = map[string]Kind{
	"GlobalSignOut":          KindSignOut,
	"AdminUserGlobalSignOut": KindSignOut,
	"AdminDisableUser":       KindSignOut,
	"AdminDeleteUser":        KindSignOut,
	"DeleteUser":             KindSignOut,
	"ChangePassword":         KindPassword,
	"ConfirmForgotPassword":  KindPassword,
	"AdminSetUserPassword":   KindPassword,
	"AdminResetUserPassword": KindPassword,
	"RevokeToken":            KindSession,
	"RevokeUserSession":      KindSession,
	"AdminRevokeUserSession": KindSession,
}

// KindOf returns the kind of a CloudTrail eventName.
func KindOf(eventName string) Kind { return kinds[eventName] }

// EventNames returns the event names of kind k (none for KindOther), for
// event patterns, IAM and backfill: the names a consumer may honour.
func EventNames(k Kind) []string {
	var out []string
	for _, n := range eventNameOrder {
		if kinds[n] == k {
			out = append(out, n)
		}
	}
	return out
}

// eventNameOrder is the documentation order of the known names.
var eventNameOrder = []string{
	"GlobalSignOut", "AdminUserGlobalSignOut", "AdminDisableUser", "AdminDeleteUser", "DeleteUser",
	"ChangePassword", "ConfirmForgotPassword", "AdminSetUserPassword", "AdminResetUserPassword",
	"RevokeToken", "RevokeUserSession", "AdminRevokeUserSession",
}

// honoured reports whether the policy honours events of kind k.
func (c *Consumer) honoured(k Kind) bool {
	switch k {
	case KindSignOut:
		return true
	case KindPassword:
		return c.cfg.Passwords
	case KindSession:
		return c.cfg.Sessions
	}
	return false
}
