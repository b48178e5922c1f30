package main

import (
	"fmt"
	"strings"

	"github.com/cognitoguard/cognitoguard"
	"github.com/cognitoguard/cognitoguard/cognitotest"
)

// localDevText is what a Go service of one's own sets to use pool: the
// README's "Local development" with this run's values (the Verifier
// accepts the pool's issuer; the SDK calls the pool, with static
// credentials, which the pool does not check but the SDK requires).
func localDevText(pool *cognitotest.Pool) string {
	region, err := cognitoguard.PoolRegion(pool.PoolID())
	if err != nil { // parseFlags checked the pool ID
		region = "us-east-1"
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p(`Or point your own Go service at it (README "Local development"):`)
	p("")
	p("	v, err := cognitoguard.New([]cognitoguard.Pool{{")
	p("		UserPoolID: %q,", pool.PoolID())
	p("		Issuers:    []string{%q},", pool.Issuer())
	p("		ClientIDs:  []string{%q},", pool.ClientID())
	p("	}}, cognitoguard.Config{Revocation: store})")
	p("	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(%q),", region)
	p(`		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))`)
	p("	api := cognitoidentityprovider.NewFromConfig(awsCfg, func(o *cognitoidentityprovider.Options) {")
	p("		o.BaseEndpoint = aws.String(%q)", pool.URL())
	p("	})")
	return b.String()
}
