package cognitoguard

import (
	"bytes"
	"os"
	"testing"

	"github.com/cognitoguard/cognitoguard/internal/partitiongen"
)

// TestPartitionTable: the partition table is the one generated from the
// partition data of the AWS SDK version in go.mod (in the module cache),
// so an SDK upgrade that changes a partition fails here until
// `go generate -run partitiongen .` is run.
func TestPartitionTable(t *testing.T) {
	path, err := partitiongen.Locate(".")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := partitiongen.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(sdk) != len(partitions) {
		t.Errorf("the table has %d partitions, %s has %d", len(partitions), path, len(sdk))
	}
	for i := range min(len(sdk), len(partitions)) {
		s, p := sdk[i], partitions[i]
		if s.ID != p.id || s.RegionRegex != p.regionRegex || s.DNSSuffix != p.dnsSuffix {
			t.Errorf("partition %d: table %+v, SDK %+v", i, p, s)
		}
	}
	want, err := partitiongen.Render(sdk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("partition_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("partition_table.go is not what partitiongen writes: run go generate -run partitiongen .")
	}
}
