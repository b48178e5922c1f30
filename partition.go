package cognitoguard

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

//go:generate go run ./internal/cmd/partitiongen

// ErrRegion reports a region name that belongs to no AWS partition known
// to this version (see [RegionPartition]).
var ErrRegion = errors.New("cognitoguard: not a region of a known AWS partition")

// Partition is an AWS partition: a group of regions with its own DNS
// suffix and ARN prefix (commercial "aws", China "aws-cn", GovCloud
// "aws-us-gov", European Sovereign Cloud "aws-eusc", the ISO partitions).
type Partition struct {
	// ID names the partition in ARNs: "aws", "aws-cn", "aws-eusc", ….
	ID string
	// DNSSuffix is the domain of the partition's service endpoints:
	// "amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", ….
	DNSSuffix string
}

// partition is a row of the generated table (partition_table.go).
type partition struct {
	id, regionRegex, dnsSuffix string
}

// partitionRes are the compiled patterns: regionLabelRe (a region is one
// lowercase DNS label; the SDK's patterns use \w, which also admits
// capitals and underscores), then those of partitions, in its order.
// They are compiled on first use: compiling them when a program that
// imports the package starts cost every such program 0.5 ms and 100 KB.
var partitionRes = sync.OnceValue(func() []*regexp.Regexp {
	res := []*regexp.Regexp{regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)}
	for _, p := range partitions {
		res = append(res, regexp.MustCompile(p.regionRegex))
	}
	return res
})

// RegionPartition returns the partition of an AWS region: "eu-west-1" is
// in "aws" (amazonaws.com), "cn-north-1" in "aws-cn" (amazonaws.com.cn),
// "eusc-de-east-1" in "aws-eusc" (amazonaws.eu). The table is generated
// from the partition data of the AWS SDK for Go v2 (its region patterns
// and DNS suffixes), so a region of a partition added to AWS later than
// that SDK version is refused. The error matches [ErrRegion].
func RegionPartition(region string) (Partition, error) {
	if res := partitionRes(); res[0].MatchString(region) {
		for i, re := range res[1:] {
			if re.MatchString(region) {
				return Partition{ID: partitions[i].id, DNSSuffix: partitions[i].dnsSuffix}, nil
			}
		}
	}
	return Partition{}, fmt.Errorf("%w: %q", ErrRegion, region)
}

// isPartitionHost reports whether host is a name under the DNS suffix of
// a known partition.
func isPartitionHost(host string) bool {
	for _, p := range partitions {
		if strings.HasSuffix(host, "."+p.dnsSuffix) {
			return true
		}
	}
	return false
}
