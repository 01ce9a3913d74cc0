// Package cohort computes cohort (retention) tables from bitmapist data: the
// Go form of flask-bitmapist's get_cohort and of Python bitmapist's
// get_dates_data, plus first-time cohorts and "on or after" retention,
// which neither original has.
//
// A table has one row per period (hour, day, ISO week, month or year) and
// one column per offset from that period. Row i's cohort is the set of
// users who did the primary event in row i's period; cell (i, j) counts
// the cohort's users who did the secondary event (combined with the
// additional events) in the period j after row i's.
//
// # Speed and Redis Cluster
//
// Get reads every distinct bitmap of a table once, in one pipelined round
// trip (bitmapist.Client.Fetch; split per node on a Redis Cluster, so the
// bitmaps may live in different slots), and computes every cell in memory.
// It writes nothing and leaves no temporary keys. The references run one
// BITOP and one BITCOUNT round trip per cell; see docs/benchmarks.md. Only
// first-time cohorts read more: they list the primary event's stored
// months first (a SCAN; see Query.FirstTime).
//
// Memory is the size of the bitmaps read: one bitmap is (highest user id)/8
// bytes, so a 12×12 monthly table over ids up to 1,000,000 with one
// additional event holds about 60 bitmaps of 125 KB.
package cohort
