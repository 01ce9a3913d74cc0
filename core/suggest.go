package bitmapist

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// SuggestEventNames returns up to n names of known that look like a typo
// of name, closest first: names equal to it but for case, names that
// contain it or are contained in it (case-insensitively), and names within
// an edit distance (Levenshtein, in runes, case-insensitive) of a third of
// name's length, at least 2. Ties go to the name that is closer with case
// counted, then by name. It is meant for "did you mean ...?" messages
// about an event that has no data: pass the result of EventNames as known. name itself is never suggested; n <= 0 or no
// close name returns nil. It does no Redis work.
func SuggestEventNames(name string, known []string, n int) []string {
	if n <= 0 || name == "" {
		return nil
	}
	lower := strings.ToLower(name)
	limit := max(2, utf8.RuneCountInString(name)/3)
	type scored struct {
		name  string
		d, d2 int // case-insensitive distance, then the exact one
	}
	var out []scored
	for _, k := range known {
		if k == name {
			continue
		}
		kl := strings.ToLower(k)
		switch d := editDistance(lower, kl, limit); {
		case kl == lower:
			out = append(out, scored{k, 0, editDistance(name, k, limit)})
		case d <= limit:
			out = append(out, scored{k, d, editDistance(name, k, limit)})
		case len(lower) >= 3 && (strings.Contains(kl, lower) || strings.Contains(lower, kl)):
			out = append(out, scored{k, limit + 1, limit + 1})
		}
	}
	slices.SortFunc(out, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.d2, b.d2), cmp.Compare(a.name, b.name))
	})
	names := make([]string, 0, min(n, len(out)))
	for _, s := range out[:min(n, len(out))] {
		names = append(names, s.name)
	}
	if len(names) == 0 {
		return nil
	}
	return names
}

// editDistance returns the Levenshtein distance of a and b in runes, or
// limit+1 as soon as it is sure to be larger than limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
