package acltest

import (
	"slices"
	"strings"
	"testing"
)

const acl = "user default off\nuser svc on resetchannels -@all +get +cluster|slots ~app:* &app:*\nuser other on +@all\n"

func TestPermissions(t *testing.T) {
	got := Permissions(acl, "svc")
	want := []string{"+get", "+cluster|slots", "~app:*", "&app:*"}
	if !slices.Equal(got, want) {
		t.Errorf("Permissions = %q, want %q", got, want)
	}
	if got := Permissions(acl, "nobody"); got != nil {
		t.Errorf("Permissions of an absent user = %q", got)
	}
}

func TestWithout(t *testing.T) {
	got := Without(acl, "svc", "+get")
	if !strings.Contains(got, "user svc on resetchannels -@all +cluster|slots ~app:* &app:*\n") {
		t.Errorf("Without(+get) =\n%s", got)
	}
	if !strings.Contains(got, "user other on +@all\n") || !strings.HasPrefix(got, "user default off\n") {
		t.Errorf("Without changed other users:\n%s", got)
	}
}

func TestForTest(t *testing.T) {
	got := forTest(acl)
	for _, want := range []string{
		"user default off\n",
		"user svc on resetchannels -@all +get +cluster|slots ~app:* &app:* >" + Password + "\n",
		"user " + Admin + " on >" + Password + " ~* &* +@all\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("forTest lacks %q:\n%s", want, got)
		}
	}
}
