package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestCohortRowsAfterNowInEveryFormat: rows after --now (one of them
// holding a user) are printed in text as in CSV, with the same users, and
// the note tells what they show.
func TestCohortRowsAfterNowInEveryFormat(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, m := range [][]string{{"ev:s", "1", "2025-01-01"}, {"ev:a", "1", "2025-01-02"}, {"ev:s", "2", "2025-01-05"}} {
		mustOK(t, cli(t, b, "", "mark", m[0], m[1], "--at", m[2]))
	}
	args := []string{"cohort", "ev:s", "ev:a", "--start", "2025-01-01", "--now", "2025-01-03", "--rows", "10"}
	rows := func(out, sep string) []string {
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "2025-") {
				f := strings.FieldsFunc(l, func(r rune) bool { return strings.ContainsRune(sep, r) })
				got = append(got, f[0]+" "+f[1])
			}
		}
		return got
	}
	text := mustOK(t, cli(t, b, "", args...))
	csv := mustOK(t, cli(t, b, "", append(args, "--csv")...))
	tr, cr := rows(text.stdout, " "), rows(csv.stdout, ",")
	if len(tr) != 10 || strings.Join(tr, ";") != strings.Join(cr, ";") || tr[4] != "2025-01-05 1" {
		t.Errorf("text rows %v, CSV rows %v; want the same 10, 2025-01-05 with 1 user", tr, cr)
	}
	for _, r := range []result{text, csv} {
		if !strings.Contains(r.stderr, "rows after --now 2025-01-03 (up to 2025-01-10) show their users but blank cells") ||
			!strings.Contains(r.stderr, "--include-future") {
			t.Errorf("note %q does not tell what the rows after --now show", r.stderr)
		}
	}
}

// TestFunnelZeroOverZero: every conversion from a step of no users is "–"
// in text (as on the dashboard), in the rows and the total alike; a real
// 0% stays 0.0%.
func TestFunnelZeroOverZero(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "f:a", "1", "--at", "2025-01-01"))
	mustOK(t, cli(t, b, "", "mark", "f:b", "2", "--at", "2025-01-02"))
	mustOK(t, cli(t, b, "", "mark", "f:c", "3", "--at", "2025-03-01"))
	r := mustOK(t, cli(t, b, "", "funnel", "f:a", "f:b", "f:c", "--from", "2025-01-01", "--to", "2025-01-02", "--window", "1"))
	for _, l := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(l)
		if len(f) != 6 || (f[0] != "2025-01-01" && f[0] != "2025-01-02" && f[0] != "total") {
			continue
		}
		// entry, a, b, conv, c, conv
		for k, prev := range map[int]int{3: 1, 5: 2} {
			want := "0.0%"
			if f[prev] == "0" {
				want = "–"
			}
			if f[k] != want {
				t.Errorf("line %q: conversion %q after %s users, want %q", l, f[k], f[prev], want)
			}
		}
	}
	if !strings.Contains(r.stdout, "–") || !strings.Contains(r.stdout, "0.0%") {
		t.Errorf("funnel text lacks a 0/0 or a 0%% conversion:\n%s", r.stdout)
	}
}
