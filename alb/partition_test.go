package alb_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cognitoguard/cognitoguard/alb"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// TestSignerPartitions: a signer ARN's region must be of the ARN's
// partition, in every partition: a European Sovereign Cloud load balancer
// verifies (its key fetched for its region), an ARN whose partition and
// region disagree is refused.
func TestSignerPartitions(t *testing.T) {
	const tail = ":123456789012:loadbalancer/app/web/50dc6c495c0c9188"
	for _, arn := range []string{
		"arn:aws-eusc:elasticloadbalancing:eusc-de-east-1" + tail,
		"arn:aws-cn:elasticloadbalancing:cn-north-1" + tail,
		"arn:aws-us-gov:elasticloadbalancing:us-gov-east-1" + tail,
		"arn:aws-iso-e:elasticloadbalancing:eu-isoe-west-1" + tail,
	} {
		if _, err := alb.NewVerifier([]string{arn}, alb.Config{}); err != nil {
			t.Errorf("%s: %v", arn, err)
		}
	}
	for _, arn := range []string{
		"arn:aws:elasticloadbalancing:eusc-de-east-1" + tail,
		"arn:aws:elasticloadbalancing:cn-north-1" + tail,
		"arn:aws-cn:elasticloadbalancing:us-east-1" + tail,
		"arn:aws-eusc:elasticloadbalancing:eusc-fr-east-1" + tail,
		"arn:aws:elasticloadbalancing:mars-north-1" + tail,
		"arn:aws:elasticloadbalancing:us-East-1" + tail,
	} {
		if _, err := alb.NewVerifier([]string{arn}, alb.Config{}); err == nil {
			t.Errorf("%s: accepted", arn)
		}
	}

	const eusc = "arn:aws-eusc:elasticloadbalancing:eusc-de-east-1" + tail
	pool := cognitotest.NewPool(cognitotest.Config{PoolID: "eusc-de-east-1_Sov3reign"})
	t.Cleanup(pool.Close)
	pool.AddUser(cognitotest.User{Username: "alice"})
	lb := cognitotest.NewALB(cognitotest.ALBConfig{ARN: eusc})
	t.Cleanup(lb.Close)
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		http.Redirect(w, r, lb.KeyURL()+"/"+r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	v, err := alb.NewVerifier([]string{eusc}, alb.Config{KeyURL: srv.URL + "/{region}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), lb.DataToken(pool, "alice")); err != nil {
		t.Fatal(err)
	}
	if got, want := path.Load(), "/eusc-de-east-1/"+lb.KeyID(); got != want {
		t.Errorf("fetched %v, want %s", got, want)
	}
}
