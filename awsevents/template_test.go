package awsevents_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/awsevents"
	"github.com/cognitoguard/cognitoguard/events"
)

// match reports whether event matches an EventBridge event pattern, for
// the pattern features the template uses: nested objects, arrays of
// alternatives (an event array matches if any element does), exact
// values (the empty string included) and {"exists": bool}.
func match(pattern map[string]any, event map[string]any) bool {
	for key, p := range pattern {
		v, present := event[key]
		switch p := p.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !present || !ok || !match(p, sub) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(p, func(alt any) bool { return matchValue(alt, v, present) }) {
				return false
			}
		default:
			panic("pattern values must be objects or arrays")
		}
	}
	return true
}

// matchValue matches one alternative of a pattern array.
func matchValue(alt, v any, present bool) bool {
	if m, ok := alt.(map[string]any); ok {
		if len(m) != 1 {
			panic("unsupported content filter")
		}
		exists, ok := m["exists"].(bool)
		if !ok {
			panic("unsupported content filter")
		}
		return present == exists
	}
	if !present {
		return false
	}
	if arr, ok := v.([]any); ok {
		return slices.ContainsFunc(arr, func(e any) bool { return e == alt })
	}
	return v == alt
}

// templateJSON is the embedded template, parsed.
func templateJSON(t *testing.T) map[string]any {
	t.Helper()
	var tpl map[string]any
	if err := json.Unmarshal(awsevents.Template, &tpl); err != nil {
		t.Fatalf("template: %v", err)
	}
	return tpl
}

func resource(t *testing.T, tpl map[string]any, name string) map[string]any {
	t.Helper()
	r, ok := tpl["Resources"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("template has no resource %s", name)
	}
	return r["Properties"].(map[string]any)
}

func TestMatchEvaluator(t *testing.T) {
	p := map[string]any{"a": []any{"x", ""}, "b": map[string]any{"c": []any{map[string]any{"exists": false}}}}
	for _, tt := range []struct {
		event string
		want  bool
	}{
		{`{"a":"x","b":{}}`, true},
		{`{"a":"","b":{}}`, true},
		{`{"a":["y","x"],"b":{}}`, true},
		{`{"a":"y","b":{}}`, false},
		{`{"b":{}}`, false},
		{`{"a":"x","b":{"c":"z"}}`, false},
		{`{"a":"x"}`, false},
	} {
		var ev map[string]any
		if err := json.Unmarshal([]byte(tt.event), &ev); err != nil {
			t.Fatal(err)
		}
		if got := match(p, ev); got != tt.want {
			t.Errorf("match(%s) = %v, want %v", tt.event, got, tt.want)
		}
	}
}

// TestTemplatePattern: both rules (home and forwarding) carry one pattern,
// which every honoured event of testdata/cloudtrail matches, and
// InitiateAuth, Token_POST and a failed GlobalSignOut do not; its event
// names are exactly the ones the consumer may honour.
func TestTemplatePattern(t *testing.T) {
	tpl := templateJSON(t)
	pattern := resource(t, tpl, "SignOutRule")["EventPattern"].(map[string]any)
	fwd := resource(t, tpl, "ForwardRule")["EventPattern"].(map[string]any)
	if a, b := mustJSON(t, pattern), mustJSON(t, fwd); a != b {
		t.Errorf("the forwarding rule's pattern differs from the home rule's:\n%s\n%s", b, a)
	}
	files, err := filepath.Glob(filepath.Join("..", "testdata", "cloudtrail", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		detail := ev["detail"].(map[string]any)
		eventName, _ := detail["eventName"].(string)
		errorCode, _ := detail["errorCode"].(string)
		want := events.KindOf(eventName) != events.KindOther && errorCode == ""
		if got := match(pattern, ev); got != want {
			t.Errorf("%s: pattern match = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"InitiateAuth", "Token_POST", "GlobalSignOut-failed"} {
		var ev map[string]any
		_ = json.Unmarshal([]byte(record(t, name)), &ev)
		if match(pattern, ev) {
			t.Errorf("%s matches the rule", name)
		}
	}
	var names []string
	for _, n := range pattern["detail"].(map[string]any)["eventName"].([]any) {
		names = append(names, n.(string))
	}
	if want := awsevents.HonouredNames(true, true); !slices.Equal(names, want) {
		t.Errorf("pattern eventName = %v, want the honourable names %v", names, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTemplateQueuePolicy: only events.amazonaws.com, from the rule, may
// send to the queue (SendMessage rights are sign-out rights).
func TestTemplateQueuePolicy(t *testing.T) {
	tpl := templateJSON(t)
	for policy, queue := range map[string]string{"SignOutQueuePolicy": "SignOutQueue", "RuleDeadLetterQueuePolicy": "RuleDeadLetterQueue"} {
		p := resource(t, tpl, policy)
		stmts := p["PolicyDocument"].(map[string]any)["Statement"].([]any)
		if len(stmts) != 1 {
			t.Fatalf("%s: %d statements, want 1", policy, len(stmts))
		}
		got := mustJSON(t, stmts[0])
		want := mustJSON(t, map[string]any{
			"Sid": "OnlyTheRule", "Effect": "Allow", "Principal": map[string]any{"Service": "events.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": map[string]any{"Fn::GetAtt": []any{queue, "Arn"}},
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": map[string]any{"Fn::GetAtt": []any{"SignOutRule", "Arn"}}}},
		})
		if got != want {
			t.Errorf("%s statement:\n%s\nwant\n%s", policy, got, want)
		}
	}
	q := resource(t, tpl, "SignOutQueue")
	if rp := q["RedrivePolicy"].(map[string]any); mustJSON(t, rp["deadLetterTargetArn"]) != `{"Fn::GetAtt":["SignOutDeadLetterQueue","Arn"]}` {
		t.Errorf("queue redrive = %v", rp)
	}
	target := resource(t, tpl, "SignOutRule")["Targets"].([]any)[0].(map[string]any)
	if target["DeadLetterConfig"] == nil || target["RetryPolicy"] == nil {
		t.Errorf("rule target without its DLQ or retry policy: %v", target)
	}
}

// consumerActions is the IAM actions the template grants the consumer.
func consumerActions(t *testing.T) []string {
	t.Helper()
	p := resource(t, templateJSON(t), "ConsumerPolicy")
	var out []string
	for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		for _, a := range s.(map[string]any)["Action"].([]any) {
			out = append(out, a.(string))
		}
	}
	slices.Sort(out)
	return out
}
