package cohort

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// serverBatch is the most commands computeOnServer sends in one pipeline.
const serverBatch = 5000

// computeOnServer computes the table on bitmapist-server
// (bitmapist.BackendBitmapistServer), where a GET walks the bitmap bit by
// bit (a few ms for 250,000 users) while BITOP and BITCOUNT are native
// roaring operations: the table is computed there, with the same algebra
// as compute, in pipelines of BITOP AND/OR/XOR into temporary keys
// (<prefix>bitop_cohort_...) and BITCOUNTs, about 2 commands per cell and
// one round trip per serverBatch commands (flask-bitmapist's way, without
// its round trip per command). "AND NOT" is x XOR (x AND y), as the
// server's BITOP NOT stops at the highest set bit. Every temporary key
// expires after the client's TempTTL and is deleted at the end, also after
// an error. No bitmap byte is sent, so MaxReadBytes and MaxCombineBytes do
// not apply; Table.BytesRead is 0.
func computeOnServer(ctx context.Context, c *bitmapist.Client, q Query, p *plan) (*Table, error) {
	s := &serverOps{c: c, ctx: ctx, base: c.Reader().TempKey("cohort") + "_"}
	defer s.cleanup()
	ret := make([]string, len(p.ret))
	for k := range ret {
		fs := make([]string, len(p.groups))
		for gi, grp := range p.groups {
			es := make([]string, 0, len(grp))
			for _, e := range grp {
				es = append(es, s.union(p.ret[k][e]))
			}
			fs[gi] = s.op("OR", es)
		}
		ret[k] = s.op("AND", fs)
	}
	if q.OnOrAfter {
		for k := len(ret) - 2; k >= 0; k-- {
			ret[k] = s.op("OR", []string{ret[k], ret[k+1]})
		}
	}
	retUsers := make([]*redis.IntCmd, len(ret))
	if q.BlankEmpty {
		for k, r := range ret {
			retUsers[k] = s.count(r)
		}
	}
	var seen string // FirstTime: who did Primary before the row
	if q.FirstTime && len(p.history) > 0 {
		seen = s.into(s.tmp(), "OR", append(p.history, p.history[0]))
	}
	seg := s.segment(q.Segment, p.rows)
	totals := make([]*redis.IntCmd, q.Rows)
	cells := make([]*redis.IntCmd, q.Rows*q.Cols)
	cell := s.tmp()
	for i := range q.Rows {
		cohort := s.serverCohort(&q, p, i, &seen)
		if seg != "" {
			cohort = s.into(s.tmp(), "AND", []string{cohort, seg})
		}
		totals[i] = s.count(cohort)
		for j := 0; j < q.Cols && i+j < len(ret); j++ {
			s.into(cell, "AND", []string{cohort, ret[i+j]})
			cells[i*q.Cols+j] = s.count(cell)
			if !q.WithReplacement {
				s.into(cohort, "XOR", []string{cohort, cell})
			}
		}
	}
	if err := s.flush(); err != nil {
		return nil, fmt.Errorf("cohort: compute on bitmapist-server: %w", err)
	}
	sm := &sums{totals: vals(totals), cells: vals(cells), retUsers: vals(retUsers)}
	return p.table(&q, sm), nil
}

// serverCohort returns the key holding row i's cohort: a temporary key of
// its own unless the query neither narrows nor removes returners. seen is
// FirstTime's history key, extended with the row's users.
func (s *serverOps) serverCohort(q *Query, p *plan, i int, seen *string) string {
	base := s.union(p.rows[i])
	cohort, own := base, false
	if q.FirstTime {
		if *seen != "" {
			both := s.into(s.tmp(), "AND", []string{base, *seen})
			cohort, own = s.into(s.tmp(), "XOR", []string{base, both}), true
			s.into(*seen, "OR", []string{*seen, base})
		} else {
			*seen = s.into(s.tmp(), "OR", []string{base, base})
		}
	}
	if p.narrow[i] != nil {
		cohort, own = s.into(s.tmp(), "AND", []string{cohort, s.union(p.narrow[i])}), true
	}
	if !q.WithReplacement && !own {
		cohort = s.into(s.tmp(), "OR", []string{cohort, cohort}) // a copy: it is emptied as users return
	}
	return cohort
}

// segment queues the BITOPs that compute seg and returns the key holding
// it ("" for a nil seg). AndNot is a XOR (a AND b); Empty is a temporary
// key never written (a missing key reads as empty); Not(a) is U XOR (U
// AND a) with U the OR of every row's keys (rows), the segment rule of
// bitmapist.EvalSegment: every cohort lies in U, so cohort AND Not(a) is
// the cohort's users not in a, whatever a's length (the server's own
// BITOP NOT stops at a's highest set bit). U is computed once, if needed.
func (s *serverOps) segment(seg bitmapist.Set, rows [][]string) string {
	if seg == nil {
		return ""
	}
	universe := ""
	return bitmapist.FoldSet(seg, func(k string) string { return k }, func(op bitmapist.SetOp, args []string) string {
		switch op {
		case bitmapist.SetEmpty:
			return s.tmp()
		case bitmapist.SetAndNot:
			return s.andNot(args[0], args[1])
		case bitmapist.SetNot:
			if universe == "" {
				universe = s.tmp() // no row key: no cohort, an empty U
				if keys := slices.Concat(rows...); len(keys) > 0 {
					s.into(universe, "OR", keys)
				}
			}
			return s.andNot(universe, args[0])
		}
		return s.op(string(op), args)
	})
}

// andNot queues a XOR (a AND b), the users of a not in b, into a
// temporary key and returns it.
func (s *serverOps) andNot(a, b string) string {
	both := s.into(s.tmp(), "AND", []string{a, b})
	return s.into(s.tmp(), "XOR", []string{a, both})
}

// serverOps queues the commands of computeOnServer.
type serverOps struct {
	c    *bitmapist.Client
	ctx  context.Context
	base string
	n    int
	pipe redis.Pipeliner
	tmps []string
	err  error // the first failed pipeline's
}

// tmp returns a new temporary key (it expires after the client's TempTTL).
func (s *serverOps) tmp() string {
	s.n++
	k := s.base + strconv.Itoa(s.n)
	s.tmps = append(s.tmps, k)
	return k
}

func (s *serverOps) queue() redis.Pipeliner {
	if s.pipe == nil {
		s.pipe = s.c.Redis().Pipeline()
	}
	return s.pipe
}

// into queues dst = op(keys...) (the server wants two sources at least)
// and returns dst.
func (s *serverOps) into(dst, op string, keys []string) string {
	if len(keys) == 1 {
		keys = append(keys, keys[0])
	}
	args := append([]any{"BITOP", op, dst}, toAny(keys)...)
	s.queue().Do(s.ctx, args...)
	// After every BITOP, not once per key: a BITOP replaces its
	// destination, TTL included, so a rewritten key would otherwise
	// outlive a process that dies before cleanup's DEL.
	s.queue().Expire(s.ctx, dst, s.c.TempTTL())
	s.maybeFlush()
	return dst
}

// op returns a key holding op(keys...): the key itself for one key.
func (s *serverOps) op(op string, keys []string) string {
	if len(keys) == 1 {
		return keys[0]
	}
	return s.into(s.tmp(), op, keys)
}

// union returns a key holding the OR of keys (a year's months).
func (s *serverOps) union(keys []string) string { return s.op("OR", keys) }

func (s *serverOps) count(key string) *redis.IntCmd {
	cmd := s.queue().BitCount(s.ctx, key, nil)
	s.maybeFlush()
	return cmd
}

// maybeFlush sends the queued commands once there are serverBatch; an
// error is kept for flush (later commands are not sent).
func (s *serverOps) maybeFlush() {
	if s.pipe.Len() >= serverBatch {
		_ = s.flush()
	}
}

// flush sends the queued commands. After a failure nothing more is sent
// and every flush returns the first error.
func (s *serverOps) flush() error {
	if s.err == nil && s.pipe != nil && s.pipe.Len() > 0 {
		_, s.err = s.pipe.Exec(s.ctx)
	}
	if s.err != nil && s.pipe != nil {
		s.pipe.Discard()
	}
	return s.err
}

// cleanup deletes the temporary keys (with a context of its own, so that
// a cancelled table still removes them).
func (s *serverOps) cleanup() {
	if len(s.tmps) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	for lo := 0; lo < len(s.tmps); lo += 500 {
		_ = s.c.Redis().Del(ctx, s.tmps[lo:min(lo+500, len(s.tmps))]...).Err()
	}
}

func toAny(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// vals returns the values of cmds (0 for a nil one).
func vals(cmds []*redis.IntCmd) []int64 {
	out := make([]int64, len(cmds))
	for i, c := range cmds {
		if c != nil {
			out[i] = c.Val()
		}
	}
	return out
}
