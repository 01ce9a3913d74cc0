package bitmapist

import (
	"slices"
	"testing"
)

func TestSuggestEventNames(t *testing.T) {
	known := []string{"user:signed_up", "user:active", "song:played", "song:shared", "playlist:created", "User:Active"}
	for _, tc := range []struct {
		name string
		n    int
		want []string
	}{
		{"user:signedup", 3, []string{"user:signed_up"}},
		{"user:activ", 3, []string{"user:active", "User:Active"}},
		{"USER:ACTIVE", 3, []string{"User:Active", "user:active"}}, // case only: distance 0, by name
		{"song:playd", 1, []string{"song:played"}},
		{"song", 5, []string{"song:played", "song:shared"}}, // contained
		{"user:active", 3, []string{"User:Active"}},         // itself is never suggested
		{"checkout", 3, nil},
		{"user:active", 0, nil},
		{"", 3, nil},
	} {
		if got := SuggestEventNames(tc.name, known, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("SuggestEventNames(%q, %d) = %q, want %q", tc.name, tc.n, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"kitten", "sitting", 5, 3},
		{"", "abc", 5, 3},
		{"abc", "abc", 1, 0},
		{"événement", "evenement", 3, 2}, // runes, not bytes
		{"abcdef", "uvwxyz", 2, 3},       // stops at limit+1
		{"a", "abcdefg", 2, 3},
	} {
		if got := editDistance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}
