package cohort

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestAdditionalOpMessages: every bad op of an additional event, packed
// ("additional=OP:EVENT", the CLI's --additional) or split
// ("additional_event" + "additional_op", the dashboard's form), says the
// form expected and numbers the value from 1 only when there are several.
func TestAdditionalOpMessages(t *testing.T) {
	tests := []struct {
		q     string
		field string
		want  string
	}{
		{"additional=customer:updated", "additional",
			`"customer:updated": want OP:EVENT with OP and or or, not "customer" (for the event "customer:updated" itself: and:customer:updated)`},
		{"additional=nocolon", "additional", `"nocolon": want OP:EVENT with OP and or or (for the event "nocolon" itself: and:nocolon)`},
		{"additional=and:a&additional=xor:b", "additional", `"xor:b" (value 2 of 2): want OP:EVENT with OP and or or, not "xor"`},
		{"additional_event=b&additional_op=xor", "additional_op", `"xor": want and or or (the op joining additional_event "b")`},
		{"additional_event=a&additional_op=and&additional_event=b&additional_op=nand", "additional_op", `"nand" (value 2 of 2): want and or or (the op joining additional_event "b")`},
	}
	for _, tc := range tests {
		v, err := url.ParseQuery("primary_event=p&secondary_event=s&" + tc.q)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseQuery(v)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Fatalf("%s: error %v, want a *QueryError", tc.q, err)
		}
		if qe.Field != tc.field || !strings.HasPrefix(qe.Msg, tc.want) {
			t.Errorf("%s: field %q, message %q; want %q, %q", tc.q, qe.Field, qe.Msg, tc.field, tc.want)
		}
		for _, bad := range []string{"value 0", "op is not"} {
			if strings.Contains(qe.Msg, bad) {
				t.Errorf("%s: message %q contains %q", tc.q, qe.Msg, bad)
			}
		}
	}
}
