package awsevents_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cognitoguard/cognitoguard/awsevents"
	pattern_ "github.com/cognitoguard/cognitoguard/awsevents/internal/pattern"
	"github.com/cognitoguard/cognitoguard/events"
)

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

// TestTemplatePattern: both rules (home and forwarding) carry one pattern,
// which every honoured event of testdata/cloudtrail matches, and
// InitiateAuth, Token_POST and a failed GlobalSignOut do not; its event
// names are exactly the ones the consumer may honour.
func TestTemplatePattern(t *testing.T) {
	tpl := templateJSON(t)
	pattern := resource(t, tpl, "SignOutRule")["EventPattern"].(map[string]any)
	p, err := pattern_.Parse([]byte(mustJSON(t, pattern)))
	if err != nil {
		t.Fatal(err)
	}
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
		got, err := p.Match(b)
		if err != nil {
			t.Fatal(err)
		}
		detail := ev["detail"].(map[string]any)
		eventName, _ := detail["eventName"].(string)
		errorCode, _ := detail["errorCode"].(string)
		want := events.KindOf(eventName) != events.KindOther && errorCode == ""
		if got != want {
			t.Errorf("%s: pattern match = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"InitiateAuth", "Token_POST", "GlobalSignOut-failed"} {
		if ok, _ := p.Match([]byte(record(t, name))); ok {
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
