// Package pattern evaluates EventBridge event patterns, for the features
// the CloudFormation template's rules use: nested objects, arrays of
// alternatives (an event array matches if any element does), exact
// values (the empty string included) and {"exists": bool}. The tests use
// it to check the rule against the record shapes, and the end-to-end test
// to filter the fake pool's records as EventBridge would.
package pattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Pattern is a parsed event pattern.
type Pattern map[string]any

// Parse parses a pattern and checks it uses only the supported features.
func Parse(b []byte) (Pattern, error) {
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	if err := check(p); err != nil {
		return nil, err
	}
	return p, nil
}

func check(p map[string]any) error {
	for key, v := range p {
		switch v := v.(type) {
		case map[string]any:
			if err := check(v); err != nil {
				return err
			}
		case []any:
			for _, alt := range v {
				if m, ok := alt.(map[string]any); ok {
					if _, ok := m["exists"].(bool); !ok || len(m) != 1 {
						return fmt.Errorf("pattern: %s: unsupported content filter %v", key, m)
					}
				}
			}
		default:
			return fmt.Errorf("pattern: %s: want an object or an array", key)
		}
	}
	return nil
}

// Match reports whether the JSON event matches p.
func (p Pattern) Match(event []byte) (bool, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return false, errors.New("pattern: event is not a JSON object")
	}
	return match(p, ev), nil
}

func match(p map[string]any, ev map[string]any) bool {
	for key, pv := range p {
		v, present := ev[key]
		switch pv := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !match(pv, sub) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(pv, func(alt any) bool { return matchValue(alt, v, present) }) {
				return false
			}
		}
	}
	return true
}

// matchValue matches one alternative of a pattern array.
func matchValue(alt, v any, present bool) bool {
	if m, ok := alt.(map[string]any); ok {
		return present == m["exists"].(bool)
	}
	if !present {
		return false
	}
	if arr, ok := v.([]any); ok {
		return slices.Contains(arr, alt)
	}
	return v == alt
}
