package jsonscan

import (
	"errors"
	"time"
)

// MaxNumericDate is the largest NumericDate read (year 5138): anything
// later is an error, not a date.
const MaxNumericDate = 1e11

// ErrNumericDate reports a NumericDate that is not a whole number of
// seconds in [0, MaxNumericDate]: a string, a fraction, an exponent or a
// negative value. Cognito and the ALB write whole seconds.
var ErrNumericDate = errors.New("bad NumericDate")

// NumericDate reads a JWT NumericDate of whole seconds.
func (s *Scanner) NumericDate() (time.Time, error) {
	if s.Peek() != Number {
		return time.Time{}, ErrNumericDate
	}
	n, err := s.Int()
	if err != nil || n < 0 || n > MaxNumericDate {
		return time.Time{}, ErrNumericDate
	}
	return time.Unix(n, 0), nil
}

// LooseBool reads true or false, or the strings "true" and "false" that
// some identity providers and userinfo endpoints send instead.
func (s *Scanner) LooseBool() (bool, error) {
	if s.Peek() != String {
		return s.Bool()
	}
	str, err := s.String()
	switch {
	case err != nil:
		return false, err
	case str == "true":
		return true, nil
	case str == "false":
		return false, nil
	}
	return false, ErrSyntax
}
