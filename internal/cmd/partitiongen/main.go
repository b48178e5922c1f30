// Command partitiongen writes the root package's partition table
// (partition_table.go) from the partition data of the AWS SDK version in
// go.mod. Run it through go generate in the module root:
//
//	go generate -run partitiongen .
package main

import (
	"fmt"
	"os"

	"github.com/cognitoguard/cognitoguard/internal/partitiongen"
)

func main() {
	if err := run("partition_table.go"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(out string) error {
	path, err := partitiongen.Locate(".")
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	parts, err := partitiongen.Parse(data)
	if err != nil {
		return err
	}
	src, err := partitiongen.Render(parts)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
