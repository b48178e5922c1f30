// Command mkfixture writes a new token fixture (see package fixture) to
// -dir, replacing any earlier one: run.sh calls it first so that every
// benchmark of a run, Go, node and wrk alike, verifies the same tokens.
package main

import (
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/cognitoguard/cognitoguard/benchmarks/internal/fixture"
)

func main() {
	dir := flag.String("dir", "testdata", "directory to write the fixture to")
	flag.Parse()
	start := time.Now()
	f, err := fixture.Generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := f.Write(*dir); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("mkfixture: %d-byte token (%d-byte signing input), %d more tokens of %d users, valid until %s, in %s (%v)\n",
		f.Meta.TokenBytes, f.Meta.Signed, len(f.Tokens), fixture.Users,
		time.Unix(f.Meta.Expiry, 0).UTC().Format(time.RFC3339), *dir, time.Since(start).Round(time.Millisecond))
}
