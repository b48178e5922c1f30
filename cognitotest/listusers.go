package cognitotest

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"sync"
)

type listUsersInput struct {
	UserPoolId      string
	AttributesToGet []string
	Filter          string
	Limit           *int
	PaginationToken string
}

// userType is Cognito's UserType, as ListUsers and AdminCreateUser answer
// it.
type userType struct {
	Username             string
	Attributes           []attribute
	UserCreateDate       float64
	UserLastModifiedDate float64
	Enabled              bool
	UserStatus           string
}

// userTypeOf is r as a UserType, with all its attributes.
func userTypeOf(r *userRecord) userType {
	return userType{
		Username:             r.Username,
		Attributes:           userAttributes(r),
		UserCreateDate:       epochSeconds(r.created),
		UserLastModifiedDate: epochSeconds(r.modified),
		Enabled:              !r.Disabled,
		UserStatus:           r.status(),
	}
}

type listUsersOutput struct {
	Users           []userType
	PaginationToken string `json:",omitempty"`
}

// userFilter is a parsed ListUsers Filter: `name = "value"` (exact) or
// `name ^= "value"` (prefix), with backslash escapes in the value.
type userFilter struct {
	attr, value string
	prefix      bool
}

var filterPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*([a-z_:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$`) })

// searchableAttrs are the attributes ListUsers can filter on; custom
// attributes are not searchable.
var searchableAttrs = []string{"username", "email", "phone_number", "name", "given_name",
	"family_name", "preferred_username", "cognito:user_status", "status", "sub"}

func parseUserFilter(s string) (*userFilter, *apiError) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m := filterPattern().FindStringSubmatch(s)
	if m == nil || !slices.Contains(searchableAttrs, m[1]) {
		return nil, errInvalidParameter("Invalid search attribute or filter: " + s)
	}
	var v strings.Builder
	for i := 0; i < len(m[3]); i++ {
		if m[3][i] == '\\' {
			i++
		}
		v.WriteByte(m[3][i])
	}
	return &userFilter{attr: m[1], value: v.String(), prefix: m[2] == "^="}, nil
}

// value is the value of the filter's attribute for u.
func (f *userFilter) valueOf(u *userRecord) string {
	switch f.attr {
	case "username":
		return u.Username
	case "sub":
		return u.Sub
	case "cognito:user_status":
		return u.status()
	case "status":
		if u.Disabled {
			return "Disabled"
		}
		return "Enabled"
	}
	return u.attr(f.attr)
}

func (f *userFilter) matches(u *userRecord) bool {
	if f == nil {
		return true
	}
	v, want := f.valueOf(u), f.value
	if f.attr == "cognito:user_status" {
		v, want = strings.ToUpper(v), strings.ToUpper(want)
	}
	if f.prefix {
		return strings.HasPrefix(v, want)
	}
	return v == want
}

// listUsers serves ListUsers: the pool's users in the order they were
// added, filtered, at most Limit (default and maximum 60) a page. The
// pagination token names the first user of the next page.
func (p *Pool) listUsers(body []byte) (any, *apiError) {
	var in listUsersInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.UserPoolId != p.poolID {
		return nil, errNoPool(in.UserPoolId)
	}
	limit := 60
	if in.Limit != nil {
		if *in.Limit < 0 || *in.Limit > 60 {
			return nil, errInvalidParameter("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60")
		}
		if *in.Limit > 0 {
			limit = *in.Limit
		}
	}
	f, e := parseUserFilter(in.Filter)
	if e != nil {
		return nil, e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	start := 0
	if in.PaginationToken != "" {
		sub, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		start = slices.IndexFunc(p.users, func(r *userRecord) bool { return r.Sub == string(sub) })
		if err != nil || start < 0 {
			return nil, errInvalidParameter("Invalid pagination token.")
		}
	}
	out := listUsersOutput{Users: []userType{}}
	for _, r := range p.users[start:] {
		if !f.matches(r) {
			continue
		}
		if len(out.Users) == limit {
			out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte(r.Sub))
			break
		}
		u := userTypeOf(r)
		u.Attributes = selectAttributes(u.Attributes, in.AttributesToGet)
		out.Users = append(out.Users, u)
	}
	return out, nil
}

// selectAttributes keeps the attributes named in names, all if names is
// nil.
func selectAttributes(attrs []attribute, names []string) []attribute {
	if names == nil {
		return attrs
	}
	return slices.DeleteFunc(attrs, func(a attribute) bool { return !slices.Contains(names, a.Name) })
}
