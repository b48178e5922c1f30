package redisstore

import "github.com/cognitoguard/cognitoguard/revocation/internal/record"

// The shared record types under short local names.
type (
	userKey = record.Key
	entry   = record.Entry
)
