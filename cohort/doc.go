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
// # Engagement reports
//
// Beside tables the package computes three engagement reports over a
// range of periods (at most MaxReportPeriods), each defined exactly on its
// result type and in docs/concepts.md with a worked example:
//
//   - GetLifecycle: per period, the active users split into new (first
//     ever event), returning (active in the period before too) and
//     resurrecting (back after a gap), and the dormant ones (active in
//     the period before, not in this one; negative).
//   - GetStickiness: of the users active at least once in K periods, how
//     many were active in exactly k of them, counted bit-sliced.
//   - GetFunnel: per entry period, how many of the users who did the first
//     step went on to do each next step, in order, within a window, by
//     bitmap algebra period by period. A step that repeats an earlier
//     step's event (E1 E1, E1 E2 E1) must be reached in a later period
//     than that step: one mark never counts as two steps.
//
// Trends (users per period, rolling WAU/MAU) are counts of core periods:
// bitmapist.Client.Trend. Every report takes an optional Segment, any
// bitmapist.Set ANDed into every user set (ParseSegment reads its text
// form), reads each bitmap once in one pipelined round trip (on a Redis
// Cluster too; nothing written) and counts in memory over 64-bit words.
// Bad input is a *QueryError, found before any Redis work. Cohort tables
// take a segment too (Query.Segment, ANDed into every row's cohort). A
// Not in a segment is everyone of the report not in its argument
// (bitmapist.EvalSegment: S AND Not(a) is S AndNot a, whatever a's
// length), not Redis's byte-bound BITOP NOT, in every report and on every
// backend, bitmapist-server included.
//
// # Speed and Redis Cluster
//
// Get reads Redis through core's Reader (bitmapist.Client.Reader), in
// bounded steps: first where every bitmap holds users (STRLEN, then BITPOS
// over bounded byte ranges), then every distinct bitmap once, only the
// bytes that can hold a member of a cohort that uses it, stripe by stripe
// (GETRANGE slices in bounded pipelines; bitmapist.Reader.Stripes), each
// stripe counted in memory while others are read. Client memory is bounded
// by the stripes (WithMemory) whatever the number of users, no Redis call
// touches more than a few MiB, and nothing is written. Every command names
// a single key and pipelines are split per node on a Redis Cluster, so the
// bitmaps of one table may live in different slots. The Python originals run
// one BITOP and one BITCOUNT round trip per cell; see docs/benchmarks.md.
// First-time cohorts also list the primary event's stored months (a SCAN;
// see Query.FirstTime).
//
// Cohorts of users whose ids were handed out at sign-up are narrow id
// ranges, so most of each bitmap is never sent. At worst (cohorts spread
// over every id) the whole bitmaps are read: one bitmap is (highest user
// id)/8 bytes, so a 12×12 monthly table over ids up to 1,000,000 with one
// additional event reads 36 bitmaps of 125 KB (4.5 MB), every backend.
package cohort
