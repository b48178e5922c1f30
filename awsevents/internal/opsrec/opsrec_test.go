package opsrec

import "testing"

func TestAction(t *testing.T) {
	for _, tt := range [][3]string{
		{"SQS", "DeleteMessageBatch", "sqs:DeleteMessage"},
		{"SQS", "ReceiveMessage", "sqs:ReceiveMessage"},
		{"CloudTrail", "LookupEvents", "cloudtrail:LookupEvents"},
	} {
		if got := Action(tt[0], tt[1]); got != tt[2] {
			t.Errorf("Action(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}
