// Package bitmapist records who did what, when, as Redis bitmaps, and
// answers questions about it with bit operations.
//
// It is a Go port of Doist's Python bitmapist library (and the marking side
// of cuttlesoft's flask-bitmapist). Each event gets one bitmap per month, ISO
// week, day and (optionally) hour; bit N of a bitmap is set when the user
// with id N did the event in that period. Keys are byte-compatible with
// Python bitmapist, so Go and Python services can share one Redis:
//
//	trackist_<event>_<Y>-<M>              month     trackist_active_2024-12
//	trackist_<event>_W<isoYear>-<isoWeek> ISO week  trackist_active_W2025-1
//	trackist_<event>_<Y>-<M>-<D>          day       trackist_active_2024-12-30
//	trackist_<event>_<Y>-<M>-<D>-<H>      hour      trackist_active_2024-12-30-5
//	trackist_<event>_u                    unique    trackist_active_u
//
// A [Client] marks events ([Client.MarkEvent]) and builds sets: a [Period]
// (one event in one hour, day, week, month or year) or a combination of
// sets ([And], [Or], [Xor], [Not], [AndNot]). Sets are evaluated when asked,
// never cached, so a result never goes stale. [Client.Trend] counts a
// period range: users per period, rolling WAU/MAU and DAU/MAU, each with the
// previous range's value (lifecycle, stickiness and funnels are in package
// cohort); a [Not] in a report's segment is every user of the report not
// in its argument ([EvalSegment]), not Redis's byte-bound NOT. The same
// code runs on a single
// Redis, on miniredis and on a Redis Cluster.
//
// # Integer ids or string ids, never both in one event
//
// A bit offset is all a bitmap knows about a user. [Client.MarkEvent] uses
// the integer id itself as the offset; [Client.MarkEventString] and [IDMap]
// hand string ids (e-mails, UUIDs) offsets 0, 1, 2, ... from the same
// range. An event must therefore be marked with integer ids only or with
// string ids of one id map only: after MarkEvent(ctx, "ev", 0) and
// MarkEventString(ctx, "ev", "alice@example.com") (offset 0), both are the
// same bit, counted once, and resolving the event's ids through the map
// names alice for user 0. Use separate events (for example "signup" for
// database ids, "guest:signup" for e-mails), or map every id of the event
// through the id map. The same holds for sets combining events: And, Or and
// cohorts compare offsets, so combine only events of the same id space.
package bitmapist
