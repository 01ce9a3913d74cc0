package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// idCacheSize bounds how many string ids an import remembers (about 100 MB
// for 64-character ids); past it the cache starts over.
const idCacheSize = 1 << 20

// importStages is the time an import spent in each stage. Parsing (CSV,
// checks) runs on one goroutine while the id map and marking of the
// previous batch run on another, so the stages overlap: their sum can
// exceed the wall time.
type importStages struct {
	Parse time.Duration // reading and checking rows, waits for the writer excluded
	IDMap time.Duration // mapping string ids (IDMap.IDs round trips)
	Mark  time.Duration // MarkEvents
}

// add adds o to s.
func (s *importStages) add(o importStages) {
	s.Parse += o.Parse
	s.IDMap += o.IDMap
	s.Mark += o.Mark
}

// writePipe hands checked batches from the parsing goroutine to the
// writer goroutine, which maps and marks them, so parsing and marking
// overlap. At most one batch waits while another is written.
type writePipe struct {
	work    chan []pendingRow
	free    chan []pendingRow // used batches, for reuse
	done    chan struct{}     // closed when the writer has finished
	blocked time.Duration     // time the parser waited for the writer

	mu     sync.Mutex
	werr   error // the first error of the writer
	failed bool
}

// fail records the writer's first error.
func (p *writePipe) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.failed {
		p.werr, p.failed = err, true
	}
}

// err returns the writer's first error, nil while it has none.
func (p *writePipe) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.werr
}

// startWriter starts the writer goroutine.
func (b *batchImporter) startWriter(ctx context.Context) *writePipe {
	p := &writePipe{work: make(chan []pendingRow, 1), free: make(chan []pendingRow, 3), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for rows := range p.work {
			if p.err() != nil {
				b.rejectRows(rows, reasonNotWritten, "not sent: Redis failed on an earlier batch")
			} else if err := b.write(ctx, rows); err != nil {
				p.fail(err)
			}
			select {
			case p.free <- rows[:0]:
			default:
			}
		}
	}()
	return p
}

// flush hands the batch of checked rows to the writer (with CheckOnly it
// only counts them). It returns the writer's error once it has one; the
// rows then stay in b.rows for finish to reject.
func (b *batchImporter) flush(ctx context.Context) error {
	if len(b.rows) == 0 {
		return nil
	}
	if b.cfg.CheckOnly {
		b.sum.Checked += len(b.rows)
		b.rows = b.rows[:0]
		return nil
	}
	if b.pipe == nil {
		b.pipe = b.startWriter(ctx)
	}
	if err := b.pipe.err(); err != nil {
		return err
	}
	wait := time.Now()
	b.pipe.work <- b.rows
	select {
	case r := <-b.pipe.free:
		b.rows = r
	default:
		b.rows = make([]pendingRow, 0, b.cfg.Batch)
	}
	b.pipe.blocked += time.Since(wait)
	return nil
}

// finish waits for the writer, rejects the rows still waiting (the import
// stopped on err before writing them), and completes the summary. It
// returns the writer's error first, else err.
func (b *batchImporter) finish(err error, parseStart time.Time) (*importSummary, error) {
	b.stages.Parse = time.Since(parseStart)
	if b.pipe != nil {
		close(b.pipe.work)
		<-b.pipe.done
		b.stages.Parse -= b.pipe.blocked
		if werr := b.pipe.err(); werr != nil {
			err = werr
		}
	}
	if len(b.rows) > 0 && !b.cfg.CheckOnly {
		b.rejectRows(b.rows, reasonNotWritten, "the import stopped before this row's batch was written")
		b.rows = b.rows[:0]
	}
	b.sum.Rejected = append(b.sum.Rejected, b.wrej...)
	b.wrej = nil
	slices.SortStableFunc(b.sum.Rejected, func(x, y rejectedRow) int { return x.Line - y.Line })
	b.sum.Users = b.users.n
	b.sum.Stages = b.stages
	return b.sum, err
}

// rejectW records a row rejected while writing (writer goroutine).
func (b *batchImporter) rejectW(r pendingRow, reason, detail string) {
	b.wrej = append(b.wrej, rejectedRow{Line: r.line, End: r.end, Reason: reason, Detail: detail, Row: joinCSV(r.fields, b.cfg.Comma)})
}

// rejectRows rejects every row of rows with one reason.
func (b *batchImporter) rejectRows(rows []pendingRow, reason, detail string) {
	for _, r := range rows {
		b.rejectW(r, reason, detail)
	}
}

// userBitsMax: ids below it are counted in a bitset (16 MiB at most), the
// others in a map.
const userBitsMax = 1 << 27

// userSet counts distinct user ids.
type userSet struct {
	bits []uint64
	big  map[uint64]struct{}
	n    int
}

// add adds id to the set.
func (u *userSet) add(id uint64) {
	if id < userBitsMax {
		w := int(id / 64)
		if w >= len(u.bits) {
			u.bits = slices.Grow(u.bits, max(w+1, 2*len(u.bits))-len(u.bits))
			u.bits = u.bits[:cap(u.bits)]
		}
		if m := uint64(1) << (id % 64); u.bits[w]&m == 0 {
			u.bits[w] |= m
			u.n++
		}
		return
	}
	if u.big == nil {
		u.big = map[uint64]struct{}{}
	}
	if _, ok := u.big[id]; !ok {
		u.big[id] = struct{}{}
		u.n++
	}
}
